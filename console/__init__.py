"""Shared pieces of the Streamlit console: state (engine, user, roles) and widgets."""

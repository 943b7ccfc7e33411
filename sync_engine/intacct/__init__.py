"""Intacct XML gateway protocol client."""

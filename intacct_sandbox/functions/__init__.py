"""Function handlers, one module per family; ``registry`` maps function element names to handlers."""

"""Products shipped with kanri, each a pluggy plugin registered through an entry point."""

"""Core features registered as plugins, exactly like third-party ones."""

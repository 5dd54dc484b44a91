"""Test-only plugins: they prove a product can be added without touching app/."""

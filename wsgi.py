"""WSGI entry point for operators: ``gunicorn wsgi:app``."""
from app import create_app
from app.security import hide_development_server_version

hide_development_server_version()
app = create_app()

"""The reference: a bare Flask app rendering a small page, served by gunicorn exactly like kanri."""
from flask import Flask, render_template_string

PAGE = "<!doctype html><html><body><form><input name=a><input name=b></form>{{ n }}</body></html>"

app = Flask("bare")


@app.route("/")
def page():
    """The small page every kanri page is compared with."""
    return render_template_string(PAGE, n=1)

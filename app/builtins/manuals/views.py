"""The マニュアル page (the latest version of the user's product, older ones with their dates) and the download."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import login_required

from app import audit
from app.downloads import file_download
from app.extensions import db
from app.products import all_products
from app.tenancy import current_tenant

from . import bp, service

ASCII_NAME = "manual.pdf"


@bp.route("/manual")
@login_required
def index():
    """The user's product's manuals, newest first."""
    tenant = current_tenant()
    product = all_products().get(tenant.product)
    manuals = service.versions(tenant.product)
    return render_template("manuals/index.html", product=product, latest=manuals[0] if manuals else None,
                           older=manuals[1:])


@bp.route("/manual/<int:manual_id>/download")
@login_required
def download(manual_id: int):
    """The PDF as an attachment with its Japanese name; each download is in the tenant's operation log."""
    tenant = current_tenant()
    manual = service.of_product(tenant.product, manual_id)
    if manual is None:
        abort(404)  # another product's manual does not exist for this user
    data, name = manual.content, manual.file_name
    audit.record("manual.download", target=f"manual:{manual.product}:{manual.version}", version=manual.version,
                 file_name=manual.file_name)
    db.session.commit()
    return file_download(data, "application/pdf", ASCII_NAME, name)

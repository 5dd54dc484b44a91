"""重調@CITY: 重要事項調査報告書 work with e-mailed one-time codes."""
from app.hookspecs import hookimpl
from app.products import Product

PRODUCT = Product("jucho", "重調@CITY", "重要事項調査報告書の作成支援とメールワンタイムコードによるログイン")


@hookimpl
def register_products():
    """重調@CITY is one product."""
    return [PRODUCT]


@hookimpl
def menu_links(tenant, user):
    """重調's menus (its screens arrive with the product's own issue)."""
    if tenant is None or tenant.product != PRODUCT.code:
        return []
    return []

"""MAMAシステム: association management with registered-device login (端末認証)."""
from app.hookspecs import hookimpl
from app.products import Product

PRODUCT = Product("mama", "MAMAシステム", "管理組合・物件の管理と端末認証によるログイン")


@hookimpl
def register_products():
    """MAMA is one product."""
    return [PRODUCT]


@hookimpl
def menu_links(tenant, user):
    """MAMA's menus (its screens arrive with the product's own issue)."""
    if tenant is None or tenant.product != PRODUCT.code:
        return []
    return []

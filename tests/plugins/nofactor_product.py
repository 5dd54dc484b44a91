"""A test-only product without a second factor: logins to its tenants must be refused (fail closed)."""
from __future__ import annotations

from app import hookimpl
from app.products import Product

PRODUCT = Product("plain", "二要素なし製品", "second_factor を提供しないテスト用の製品")


@hookimpl
def register_products():
    return [PRODUCT]

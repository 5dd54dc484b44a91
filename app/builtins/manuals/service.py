"""Manuals: publish a PDF version (checked), list a product's versions, build the first manual from the
plugin's Markdown guide. No request code; the commands and the pages call these."""
from __future__ import annotations

import hashlib
import os
import re
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import sqlalchemy as sa
from flask import current_app

from app import audit, pdf
from app.extensions import db
from app.products import Product, all_products, product_file
from app.timeutil import jst_today

from .models import Manual

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
TITLE_MAX = 100
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\s\x00-\x1f\x7f]+')


class ManualError(RuntimeError):
    """A manual cannot be published or built; the message is Japanese and says why."""


def max_bytes() -> int:
    """The largest PDF accepted (``KANRI_MANUAL_MAX_BYTES``, 50 MB by default)."""
    return int(current_app.config.get("KANRI_MANUAL_MAX_BYTES") or DEFAULT_MAX_BYTES)


def product_or_fail(code: str) -> Product:
    """The registered product ``code``, or a ManualError naming the registered ones."""
    products = all_products()
    product = products.get((code or "").strip())
    if product is None:
        known = "、".join(sorted(products)) or "（なし）"
        raise ManualError(f"製品コード {code!r} の製品はありません。登録されている製品: {known}")
    return product


def check_version(version: str) -> str:
    """A version label: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 32 characters."""
    version = (version or "").strip()
    if not VERSION_PATTERN.fullmatch(version):
        raise ManualError(f"版（--version）は英数字と . _ - で32文字以内にしてください（例: 1.0, 2026.04）: {version!r}")
    return version


def check_pdf(data: bytes) -> bytes:
    """``data`` when it looks like a whole PDF file (header ``%PDF-n.n``, trailer ``%%EOF``) within the size limit."""
    if not data:
        raise ManualError("ファイルが空です。")
    if len(data) > max_bytes():
        raise ManualError(f"ファイルが大きすぎます（{len(data):,} バイト。上限は {max_bytes():,} バイト）。")
    if not re.match(rb"%PDF-[12]\.[0-9]", data[:8]):
        raise ManualError("PDFファイルではありません（先頭が %PDF- ではありません）。拡張子だけを .pdf にしたファイルは公開できません。")
    if b"%%EOF" not in data[-2048:] or b"startxref" not in data[-2048:]:
        raise ManualError("PDFファイルとして完結していません（末尾に startxref と %%EOF がありません）。壊れていないか確認してください。")
    return data


def read_pdf(path: str) -> bytes:
    """The bytes of the PDF file at ``path``, checked (the size before anything is read)."""
    if not os.path.isfile(path):
        raise ManualError(f"ファイルがありません: {path}")
    size = os.path.getsize(path)
    if size > max_bytes():
        raise ManualError(f"ファイルが大きすぎます（{size:,} バイト。上限は {max_bytes():,} バイト）。")
    with open(path, "rb") as handle:
        return check_pdf(handle.read())


def default_title(product: Product) -> str:
    """「<製品名> 操作マニュアル」."""
    return f"{product.name} 操作マニュアル"


def _clean_title(title: str | None, product: Product) -> str:
    title = (title or "").strip() or default_title(product)
    if len(title) > TITLE_MAX:
        raise ManualError(f"題名（--title）は{TITLE_MAX}文字以内にしてください。")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in title):
        raise ManualError("題名（--title）に制御文字は使えません。")
    return title


def download_name(title: str, version: str) -> str:
    """The file name users get: 「<題名>_v<版>.pdf」 with spaces and characters file systems refuse as '_'."""
    return _UNSAFE_IN_NAME.sub("_", f"{title}_v{version}").strip("_") + ".pdf"


def find(product_code: str, version: str) -> Manual | None:
    """The manual of one product and version, if published."""
    return db.session.scalars(sa.select(Manual).where(Manual.product == product_code,
                                                      Manual.version == version)).first()


def publish(product_code: str, version: str, data: bytes, *, operator: str, title: str | None = None) -> Manual:
    """Publish ``data`` as version ``version`` of the product's manual (every version is kept); commits."""
    product = product_or_fail(product_code)
    version = check_version(version)
    title = _clean_title(title, product)
    check_pdf(data)
    if find(product.code, version) is not None:
        raise ManualError(f"{product.name} の版 {version} は既に公開されています。別の版を指定してください。")
    manual = Manual(product=product.code, version=version, title=title, file_name=download_name(title, version),
                    published_by=operator, size=len(data), sha256=hashlib.sha256(data).hexdigest(), content=data)
    db.session.add(manual)
    db.session.flush()
    audit.record("manual.publish", tenant=None, actor_login=operator, target=f"manual:{product.code}:{version}",
                 file_name=manual.file_name, size=manual.size, sha256=manual.sha256)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same version published at the same moment elsewhere
        db.session.rollback()
        raise ManualError(f"{product.name} の版 {version} は既に公開されています。別の版を指定してください。") from None
    return manual


def versions(product_code: str | None = None) -> list[Manual]:
    """Published manuals, newest first (of one product, or all); the PDF bytes are not loaded."""
    query = sa.select(Manual).order_by(Manual.product, Manual.published_at.desc(), Manual.id.desc())
    if product_code:
        query = query.where(Manual.product == product_code)
    return list(db.session.scalars(query))


def of_product(product_code: str, manual_id: int) -> Manual | None:
    """Manual ``manual_id`` when it belongs to ``product_code`` (None otherwise: another product's is not found)."""
    return db.session.scalars(sa.select(Manual).where(Manual.id == manual_id, Manual.product == product_code)).first()


def default_version() -> str:
    """The version ``manual build`` uses: the kanri package version and the JST date (``0.1.0-20260512``), or 1.0."""
    try:
        return f"{package_version('kanri')}-{jst_today():%Y%m%d}"
    except PackageNotFoundError:
        return "1.0"


def build_pdf(product_code: str, version: str, title: str | None = None) -> bytes:
    """The PDF of the product's Markdown guide (``Product.guide``), titled and footed with the version."""
    product = product_or_fail(product_code)
    title = _clean_title(title, product)
    guide = product_file(product, product.guide)
    if guide is None or not guide.is_file():
        raise ManualError(f"{product.name} には操作ガイド（Product.guide の Markdown ファイル）がありません。")
    text = guide.read_text(encoding="utf-8")
    try:
        return pdf.markdown_to_pdf(text, title=title, footer=f"{title} 第{version}版", subject=product.description)
    except pdf.PdfError as exc:
        raise ManualError(str(exc)) from exc


def build_and_publish(product_code: str, version: str | None = None, *, operator: str = "operator:kanri",
                      title: str | None = None) -> Manual:
    """Generate the product's manual from its guide and publish it (``flask manual build``; the demo calls it too)."""
    version = check_version(version or default_version())
    product = product_or_fail(product_code)
    if find(product.code, version) is not None:
        raise ManualError(f"{product.name} の版 {version} は既に公開されています。別の版を指定してください。")
    return publish(product.code, version, build_pdf(product.code, version, title), operator=operator, title=title)

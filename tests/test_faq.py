"""よくある質問: each product's FAQ from its plugin's Markdown files, public, grouped, searchable without
JavaScript, and safe against hostile Markdown."""
from __future__ import annotations

import pytest

from app.builtins.faq import content
from tests.conftest import login
from tests.mama_helpers import login_with_code, mama_tenant


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _questions(html: str) -> list[str]:
    return [part.split("</h3>")[0] for part in html.split("<h3>Q. ")[1:]]


def test_mama_faq_is_public_grouped_and_answers_the_first_questions(client):
    html = _page(client, "/faq/mama")
    assert "よくある質問（MAMAシステム）" in html
    for group in ("ログインと端末の登録", "パスワードとアカウント", "画面の使い方"):
        assert f"<h2>{group}</h2>" in html
    questions = _questions(html)
    assert "「この端末は登録されていません」と表示されます。端末の登録はどうすればよいですか？" in questions
    assert "パスワードを忘れました。" in questions
    assert "「ロックされた」と言われました。ログインできません。" in questions
    # MAMA: the tenant's admin resets a password; a lock lasts 15 minutes after 10 failures.
    forgot = html.split("パスワードを忘れました。</h3>")[1].split("</article>")[0]
    assert "管理者" in forgot and "パスワード再発行" in forgot
    locked = html.split("「ロックされた」と言われました。ログインできません。</h3>")[1].split("</article>")[0]
    assert "10回" in locked and "15分" in locked and "ロック解除" in locked
    assert "<strong>登録コードで登録する</strong>" in html  # Markdown rendered


def test_jucho_faq_answers_missing_codes_and_forgotten_passwords(client):
    html = _page(client, "/faq/jucho")
    assert "認証コードのメールが届きません。" in _questions(html)
    forgot = html.split("パスワードを忘れました。</h3>")[1].split("</article>")[0]
    assert "パスワードをお忘れの方" in forgot and "30分" in forgot


@pytest.mark.parametrize("query,expected,absent", [
    ("認証コード", "認証コードのメールが届きません。", "管理組合や物件を削除できません。"),
    ("全角 数字", "全角の数字で入力してもよいですか？", "認証コードのメールが届きません。"),
    ("２０回", "認証コードを何回かまちがえたら、ログイン画面に戻されました。", "認証コードのメールが届きません。"),
    ("ｃｓｖ", "CSVファイルをExcelで開くと文字化けします。", "パスワードを忘れました。"),
    ("excel", "CSVファイルをExcelで開くと文字化けします。", "パスワードを忘れました。"),
    ("ろっく", "「ロックされた」と言われました。ログインできません。", "認証コードのメールが届きません。"),
    ("ﾊﾟｽﾜｰﾄﾞ　再設定", "パスワード再設定のリンクを開くと「リンクが無効です」と表示されます。", "認証コードのメールが届きません。"),
])
def test_search_matches_every_word_ignoring_case_width_and_kana(client, query, expected, absent):
    html = _page(client, f"/faq/jucho?q={query}")
    questions = _questions(html)
    assert expected in questions and absent not in questions
    assert f"「{query.strip()}」を含む質問" in html or "を含む質問" in html
    assert 'value="' + query in html  # the box keeps what was typed


def test_search_says_when_nothing_matches(client):
    html = _page(client, "/faq/mama?q=宇宙旅行")
    assert "該当する質問はありません" in html and _questions(html) == []


def test_odd_queries_are_handled(client):
    assert "該当する質問はありません" in _page(client, "/faq/mama?q=" + "あ" * 5000)
    assert client.get("/faq/mama?q=%00%1f%E3").status_code == 200
    assert client.get("/faq/mama?q=%25_").status_code == 200


def test_unknown_products_and_products_without_faq_are_not_found(client):
    assert client.get("/faq/nosuch").status_code == 404
    assert client.get("/faq/sample").status_code == 404


def test_anonymous_faq_lists_the_products_and_the_login_page_links_it(client):
    html = _page(client, "/faq")
    assert 'href="/faq/mama"' in html and 'href="/faq/jucho"' in html and 'href="/faq/sample"' not in html
    assert 'href="/faq"' in _page(client, "/login")


def test_logged_in_user_goes_to_their_products_faq_from_the_navigation(app, client, make_tenant):
    mama = mama_tenant(make_tenant, "mama1")
    login_with_code(client, app, mama.code, "admin")
    assert 'href="/faq"' in _page(client, "/")
    response = client.get("/faq")
    assert response.status_code == 302 and response.headers["Location"].endswith("/faq/mama")


HOSTILE = """# 危険な例

## スクリプトは動きますか？

<script>alert("x")</script> <img src=x onerror=alert(1)> [押す](javascript:alert(1))
[安全なリンク](https://example.jp/) <a href="https://evil.example/">生のリンク</a>

| 列 | <b>値</b> |
|---|---|
| 1 | <iframe src="https://evil.example"></iframe> |
"""


def test_hostile_markdown_in_a_faq_is_neutralised(app, client, make_tenant, tmp_path, monkeypatch):
    (tmp_path / "01.md").write_text(HOSTILE, encoding="utf-8")
    original = content.product_file
    monkeypatch.setattr(content, "product_file",
                        lambda product, relative: tmp_path if product.code == "sample" else original(product, relative))
    html = _page(client, "/faq/sample")
    answer = html.split("スクリプトは動きますか？</h3>")[1].split("</article>")[0]
    assert "<script" not in answer and "<img" not in answer and "<iframe" not in answer and "<b>" not in answer
    assert 'href="javascript' not in answer and '<a href="https://evil.example/"' not in answer
    assert "[押す](javascript:alert(1))" in answer  # left as text, never a link
    assert "&lt;script&gt;" in answer and "&lt;iframe" in answer
    assert '<a href="https://example.jp/" rel="noopener noreferrer">安全なリンク</a>' in answer
    assert "<table>" in answer


def test_a_file_without_questions_is_no_group_and_headings_split_answers():
    group = content.parse_group("# 見出しだけ\n\n説明\n", "fallback", "q1")
    assert group.name == "見出しだけ" and group.questions == ()
    group = content.parse_group("## 一つ目\n\n答え1\n\n## 二つ目\n\n答え2\n", "ファイル名", "q2")
    assert group.name == "ファイル名"
    assert [q.question for q in group.questions] == ["一つ目", "二つ目"]
    assert "答え1" in group.questions[0].answer and "答え2" not in group.questions[0].answer
    assert [q.anchor for q in group.questions] == ["q2-1", "q2-2"]


def test_a_product_without_a_faq_has_no_faq_link_and_gets_the_product_list(client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    assert 'href="/faq"' not in client.get("/").get_data(as_text=True)
    html = _page(client, "/faq")
    assert 'href="/faq/mama"' in html and 'href="/faq/jucho"' in html

"""A generated attack suite: every route of app.url_map × every actor × own / foreign / impossible ids, and every
POST form fuzzed with hypothesis. A route added tomorrow is covered without touching this file."""
from __future__ import annotations

import functools
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import NotFound

from app import create_app, mail_sender
from app.extensions import db
from app.products import all_products
from tests.attack_helpers import (
    FOREIGN_OF,
    IMPOSSIBLE,
    MARKERS,
    OTHER_PRODUCT_OF,
    PRODUCT_OF,
    STATE_CHANGING,
    add_passkeys,
    id_source,
    leaked_markers,
    log_in_everyone,
    mark_devices,
    missing_headers,
    post_forms,
    route_params,
    row_counts,
    seed_world,
    world_ids,
)
from tests.attack_helpers import fill as fill_rule
from tests.conftest import TEST_PLUGINS, csrf_from, empty_all_tables

# The only endpoints anonymous visitors may open. Anything else must send them to the login page (or 401/403/404).
PUBLIC = {
    "static", "mama.static", "jucho.static", "main.healthz", "main.contact", "faq.index", "faq.product",
    "auth.login", "jucho.public_request", "jucho.public_request_done", "jucho.report_link",
    "jucho.report_link_download", "jucho.forgot_password", "jucho.forgot_password_sent", "jucho.reset_password",
    "mama.reset_request", "mama.reset_request_sent",
}
# String variables that are not ids: a sensible own value per name (company codes are filled per tenant). A string
# variable not named here fails test_every_route_argument_has_a_source.
TEXT_VALUES = {"token": "not-a-real-token", "key": "building", "group_code": "basic", "code": "mama",
               "filename": "no-such-file.css", "company_code": None}
# Forms fuzzing must not submit: they end the fuzzing actor's own access.
FUZZ_SKIP = re.compile(r"/logout|/account/password|/sessions/|/account/devices/|/delete|/revoke|/suspend|/discard")


def _listing_rules():
    app = create_app({"TESTING": True, "SECRET_KEY": "listing-only-" * 4, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "KANRI_PLUGINS": TEST_PLUGINS, "KANRI_ENV": "testing"})
    return sorted(((r.rule, r.endpoint) for r in app.url_map.iter_rules()), key=lambda item: item)


RULES = _listing_rules()


@pytest.fixture(scope="module")
def world(base_config, _schema, tmp_path_factory):
    """One app for the module: four seeded tenants, their ids and six logged-in actors."""
    per_module = {"KANRI_AUDIT_ANCHOR_DIR": str(tmp_path_factory.mktemp("attack-anchors"))}
    app = create_app({**base_config, **per_module})
    with app.app_context():
        empty_all_tables()
    seed_world(app)
    actors = log_in_everyone(app)
    mark_devices(app)
    add_passkeys(app)
    with app.app_context():
        sources = {id_source(e, n) for r, e in RULES for c, n in route_params(r) if c == "int"} - {None}
    ids = world_ids(app, sources)
    yield app, ids, actors
    mail_sender.stop(app)
    with app.app_context():
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


def _own_key(actor, rule: str) -> str:
    if actor.tenant:
        return actor.tenant
    return "jucho1" if rule.startswith("/jucho") else "mama1"


def _urls(app, ids, rule_text: str, own: str, endpoint: str) -> list[tuple[str, str]]:
    """(variant, url) for own, foreign and impossible ids (one URL when the rule has no variables)."""
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and r.endpoint == endpoint)
    if not route_params(rule):
        return [("plain", rule.rule)]
    fallback = "jucho1" if rule_text.startswith("/jucho") else "mama1"

    def filler(key):
        def value(converter, name):
            if converter == "int":
                with app.app_context():
                    source = id_source(endpoint, name)
                return ids[key].get(source) or ids[fallback].get(source) or 1
            if name == "company_code":
                return key
            return TEXT_VALUES.get(name, "x")
        return value

    urls = [("own", fill_rule(rule, filler(own))), ("foreign", fill_rule(rule, filler(FOREIGN_OF[own])))]
    if endpoint.split(".")[0] not in _product_blueprints(app):  # core rows (notices, manuals …) of the other product
        urls.append(("other product", fill_rule(rule, filler(OTHER_PRODUCT_OF[own]))))
    for impossible in IMPOSSIBLE:
        urls.append((f"impossible {impossible}", fill_rule(rule, lambda conv, name, v=impossible: v)))
    return urls


@functools.cache
def _product_blueprints(app) -> frozenset[str]:
    with app.app_context():
        return frozenset(all_products())


def _routed(app, url: str, method: str) -> bool:
    try:
        app.url_map.bind("localhost").match(url, method=method)
    except NotFound:
        return False
    return True


def _anonymous_refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def test_every_route_argument_has_a_source(world):
    """Each integer argument has a table to take own and foreign ids from, each string argument a known value."""
    app, _, _ = world
    unknown = []
    with app.app_context():
        for rule, endpoint in RULES:
            for converter, name in route_params(rule):
                if converter == "int" and id_source(endpoint, name) is None:
                    unknown.append(f"{endpoint} {rule}: <int:{name}> (add it to ID_SOURCES in tests/attack_helpers.py)")
                elif converter != "int" and name not in TEXT_VALUES:
                    unknown.append(f"{endpoint} {rule}: <{name}> (add it to TEXT_VALUES)")
    assert not unknown, "\n".join(unknown)


def test_every_id_argument_has_own_and_foreign_rows_in_the_world(world):
    """The seeded world holds a row for every id argument in every tenant that can reach the route, so the own and
    foreign variants attack real rows (a route whose table stays empty would only ever see 404s)."""
    app, ids, _ = world
    with app.app_context():
        products = set(all_products())
    missing = []
    for rule, endpoint in RULES:
        blueprint = endpoint.split(".")[0]
        if blueprint in products and blueprint not in PRODUCT_OF.values():
            continue  # a product with no tenant in the world (the sample plugin): no own rows to attack with
        keys = [k for k in MARKERS if blueprint not in products or PRODUCT_OF[k] == blueprint]
        with app.app_context():
            sources = [id_source(endpoint, n) for c, n in route_params(rule) if c == "int"]
        missing += [f"{endpoint} {rule}: {key} has no {source}" for source in sources for key in keys
                    if source not in ids[key]]
    assert not missing, "\n".join(missing)


def test_each_tenant_sees_its_own_marker(world):
    """The leak check means something: a tenant's marker is on its own lists, so another's would show too."""
    _, _, actors = world
    pages = {"mama1:admin": "/mama/associations", "mama2:admin": "/mama/associations",
             "jucho1:admin": "/jucho/buildings"}
    for actor in actors:
        if actor.name in pages:
            body = actor.client.get(pages[actor.name]).get_data(as_text=True)
            assert MARKERS[actor.tenant] in body, actor.name


@pytest.mark.parametrize(("rule", "endpoint"), RULES, ids=[f"{e} {r}" for r, e in RULES])
def test_route_under_attack(world, rule, endpoint):
    app, ids, actors = world
    methods = next(r.methods for r in app.url_map.iter_rules() if r.rule == rule and r.endpoint == endpoint)
    problems = []
    before = row_counts(app) if methods & set(STATE_CHANGING) else None
    for actor in actors:
        own = _own_key(actor, rule)
        for variant, url in _urls(app, ids, rule, own, endpoint):
            where = f"{actor.name} {variant} {url}"
            if "GET" in methods:
                response = actor.client.get(url)
                body = response.get_data().decode("utf-8", "replace")  # PDFs and CSV downloads too
                if response.status_code >= 500:
                    problems.append(f"GET {where}: {response.status_code}")
                problems += [f"GET {where}: no {h}" for h in missing_headers(response)]
                allowed = set(actor.markers_allowed)
                named = url.split("/")[2] if "<company_code>" in rule else None
                if endpoint in PUBLIC and named in MARKERS:  # a public page of a company may name it
                    allowed.add(MARKERS[named])
                problems += [f"GET {where}: shows {m}" for m in leaked_markers(body, allowed)]
                if actor.tenant is None and endpoint not in PUBLIC and not _anonymous_refused(response):
                    problems.append(f"GET {where}: anonymous got {response.status_code} (undeclared public route)")
            for method in sorted(methods & set(STATE_CHANGING)):
                response = actor.client.open(url, method=method, data={"name": "x"})
                expected = 400 if _routed(app, url, method) else 404  # no route: nothing ran, not even CSRF
                if response.status_code != expected:
                    problems.append(f"{method} {where} without CSRF token: {response.status_code}")
                problems += [f"{method} {where}: no {h}" for h in missing_headers(response)]
    if before is not None:
        after = row_counts(app)
        problems += [f"requests without CSRF token changed {t}: {before[t]} -> {after[t]}"
                     for t in before if before[t] != after[t]]
    assert not problems, "\n".join(problems)


def _fuzz_forms(app, ids, actors) -> list[tuple[object, object]]:
    """(actor, form) for every POST form an authenticated actor sees on a GET page with its own ids."""
    found, seen = [], set()
    for actor in actors:
        if actor.tenant is None or actor.name.startswith("mama2"):
            continue
        for rule, endpoint in RULES:
            methods = next(r.methods for r in app.url_map.iter_rules() if r.rule == rule and r.endpoint == endpoint)
            if "GET" not in methods or endpoint.endswith("static") or rule.endswith((".csv", ".pdf")):
                continue
            url = _urls(app, ids, rule, actor.tenant, endpoint)[0][1]  # own ids
            response = actor.client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in post_forms(url, response.get_data(as_text=True)):
                if FUZZ_SKIP.search(form.action) or (actor.name, form.action) in seen:
                    continue
                seen.add((actor.name, form.action))
                found.append((actor, form))
    return found


# Text a person (or an attacker) might type: any unicode category, control characters, full-width digits, huge.
TEXT = st.one_of(
    st.just(""), st.text(max_size=40), st.text(st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.text(st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=5),
    st.text("０１２３４５６７８９－ー", min_size=1, max_size=12), st.just("あ" * 5000), st.just("9" * 400),
)


def test_every_form_survives_fuzzing(world):
    app, ids, actors = world
    forms = _fuzz_forms(app, ids, actors)
    assert len(forms) >= 20, [f.action for _, f in forms]
    failures = []
    for actor, form in forms:
        _fuzz_one(app, actor, form, failures)
    assert not failures, "\n".join(failures[:30])


def _fuzz_one(app, actor, form, failures: list) -> None:
    """Submit a few generated value sets to one form; record a 500 or a refused form that saved something."""
    names = [n for n, kind in form.fields.items() if n != "csrf_token" and kind not in ("submit", "hidden")]
    hidden = {n: "" for n, kind in form.fields.items() if kind == "hidden" and n != "csrf_token"}

    @settings(max_examples=3, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(values=st.fixed_dictionaries({name: TEXT for name in names}))
    def submit(values):
        token = csrf_from(actor.client.get(form.page).get_data(as_text=True))
        before = row_counts(app)
        try:
            response = actor.client.post(form.action, data={**hidden, **values, "csrf_token": token})
        except Exception as exc:  # the test app propagates what would be a 500  # noqa: BLE001
            failures.append(f"{actor.name} POST {form.action} {values!r}: {exc!r}")
            return
        if response.status_code >= 500:
            failures.append(f"{actor.name} POST {form.action} {values!r}: {response.status_code}")
        elif response.status_code >= 400 or 'data-testid="error-summary"' in response.get_data(as_text=True):
            after = row_counts(app)  # refused: the form came back with its errors (a 200 may be a result page)
            changed = [t for t in before if before[t] != after[t]]
            if changed:
                failures.append(f"{actor.name} POST {form.action} refused ({response.status_code}) "
                                f"but changed {changed}")

    submit()


def test_id_source_reads_the_registry_then_the_table_names_and_knows_nothing_else():
    """A new <int:…> argument is either found among the tables or reported, never filled with a guess."""
    assert id_source("jucho.report_download", "version") == "jucho_reports.version"
    assert id_source("lifecycle.export_request_detail", "request_id") == "export_requests.id"
    assert id_source("mama.reset_request_reject", "request_id") == "mama_reset_requests.id"
    assert id_source("mama.associations_show", "association_id") == "mama_associations.id"  # <blueprint>_<thing>s
    assert id_source("transparency.notice_detail", "notice_id") == "notices.id"  # <thing>s
    assert id_source("mama.widgets_show", "widget_id") is None
    assert id_source("jucho.report_page", "page") is None

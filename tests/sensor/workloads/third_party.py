"""Third-party libraries (Debian's python3-* packages) doing ordinary work, run under the sensor
with the library instrumented and exact_tracer recording the same process (test_third_party.py).
Usage: third_party.py LIBRARY OUT.json; LIBRARY is pygments, jinja2, sqlalchemy, yaml_dateutil or
parsers (pyflakes, sqlparse, pyparsing)."""

import gc
import importlib.util
import os
import sys

import exact_tracer

PACKAGES = {"pygments": ["pygments"], "jinja2": ["jinja2", "markupsafe"], "sqlalchemy": ["sqlalchemy"],
            "yaml_dateutil": ["yaml", "dateutil"], "parsers": ["pyflakes", "sqlparse", "pyparsing"]}


def run_pygments():
    from pygments import highlight
    from pygments.formatters import HtmlFormatter, TerminalFormatter
    from pygments.lexers import get_lexer_by_name
    with open(exact_tracer.__file__) as fh:
        src = fh.read()
    out = 0
    for name, text in (("python", src), ("json", '{"a": [1, 2.5, "x", null, true]}\n' * 20),
                       ("c", "int main(void) { return 0; /* c */ }\n" * 20), ("yaml", "a: 1\nb: [x, y]\n" * 20)):
        lexer = get_lexer_by_name(name)
        out += len(highlight(text, lexer, HtmlFormatter(linenos=True)))
        out += len(highlight(text, lexer, TerminalFormatter()))
    try:
        get_lexer_by_name("no-such-language")
    except Exception:
        out += 1
    return out


PAGE = """{% extends "base.html" %}{% from "macros.html" import row %}
{% block body %}{% for item in items %}{{ row(item) }}{% if loop.last %}{{ item.name|upper }}{% endif %}
{% endfor %}{{ items|map(attribute="price")|sum|round(2) }} {{ "%s-%d"|format(title, items|length) }}
{% set ns = namespace(total=0) %}{% for i in items %}{% set ns.total = ns.total + i.price %}{% endfor %}{{ ns.total }}
{{ items|selectattr("price", "gt", 2)|list|length }} {{ title|default("none")|e }}{% endblock %}"""


def run_jinja2():
    import asyncio

    import jinja2
    loader = jinja2.DictLoader({
        "base.html": "<h1>{{ title }}</h1>{% block body %}{% endblock %}",
        "macros.html": "{% macro row(it) %}<tr>{{ it.name }}: {{ '%.2f'|format(it.price) }}</tr>{% endmacro %}",
        "page.html": PAGE,
        "bad.html": "{{ missing.attr }}",
    })
    items = [{"name": f"n{i}", "price": i * 1.5} for i in range(12)]
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    out = 0
    for _ in range(3):
        out += len(env.get_template("page.html").render(title="t<1>", items=items))
    try:
        env.get_template("bad.html").render()
    except jinja2.UndefinedError:
        out += 1
    try:
        env.from_string("{% for %}")
    except jinja2.TemplateSyntaxError:
        out += 1
    aenv = jinja2.Environment(loader=loader, autoescape=True, enable_async=True)

    async def render_all():
        n = 0
        for _ in range(2):
            n += len(await aenv.get_template("page.html").render_async(title="a", items=items))
        return n
    out += asyncio.run(render_all())
    return out


def run_sqlalchemy():
    from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, exc, select
    from sqlalchemy.orm import Session, declarative_base, relationship
    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(50), unique=True, nullable=False)
        orders = relationship("Order", back_populates="user")

    class Order(Base):
        __tablename__ = "orders"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        total = Column(Integer)
        user = relationship("User", back_populates="orders")

    engine = create_engine("sqlite://", future=True)
    Base.metadata.create_all(engine)
    out = 0
    with Session(engine, future=True) as s:
        for i in range(10):
            u = User(name=f"u{i}")
            u.orders = [Order(total=i * k) for k in range(3)]
            s.add(u)
        s.commit()
        rows = s.execute(select(User.name, Order.total).join(Order).where(Order.total > 4)).all()
        out += len(rows)
        out += sum(len(u.orders) for u in s.scalars(select(User).order_by(User.name)))
        s.add(User(name="u1"))
        try:
            s.commit()
        except exc.IntegrityError:
            s.rollback()
            out += 1
    engine.dispose()
    return out


def run_yaml_dateutil():
    import yaml
    from dateutil import parser, relativedelta, rrule
    out = 0
    docs = ["a: 1\nb: [1, 2, {c: d}]\nwhen: 2024-01-02\n", "- x\n- y: !!str 3\n", "k: &a [1, 2]\nl: *a\n"]
    for d in docs * 5:
        out += len(yaml.safe_dump(yaml.safe_load(d)))
    for bad in ("a: [1, 2\n", "x: !!python/object:os.system {}\n", "a: b: c\n", "- a\nb: 1\n"):
        try:
            yaml.safe_load(bad)
        except yaml.YAMLError:
            out += 1
    for text in ("2024-03-01T10:20:30Z", "March 3, 2021 5pm", "3rd of May 2020", "2020-13-45", "not a date",
                 "12/31/1999 23:59", "yesterday noon") * 4:
        try:
            out += parser.parse(text).year
        except (ValueError, OverflowError):
            out += 1
    start = parser.parse("2024-01-01")
    out += len(list(rrule.rrule(rrule.WEEKLY, count=10, dtstart=start)))
    out += (start + relativedelta.relativedelta(months=+1, weekday=relativedelta.FR(-1))).day
    return out


def run_parsers():
    """Three parsers of other languages: pyflakes over real Python (its AST visitors, recursion,
    messages), sqlparse (a lexer, grouping, formatting) and pyparsing (combinators, packrat,
    parse failures raised and caught)."""
    import pyparsing as pp
    import sqlparse
    from pyflakes import api, reporter
    out = 0

    class Count(reporter.Reporter):
        def __init__(self):
            self.n = 0

        def unexpectedError(self, filename, message):
            self.n += 1

        def syntaxError(self, filename, msg, lineno, offset, text):
            self.n += 100

        def flake(self, message):
            self.n += len(str(message))
    for src in (exact_tracer.__file__, __file__):
        with open(src) as fh:
            text = fh.read()
        r = Count()
        out += api.check(text, src, r) + r.n
    r = Count()
    out += api.check("import os\ndef f(:\n", "bad.py", r) + r.n
    sql = ("select a.id, count(*) as n from orders a join users u on u.id = a.user_id "
           "where a.total > 10 and u.name like 'x%' group by a.id having n > 2 order by n desc; "
           "insert into t (a, b) values (1, 'two'); update t set b = null where a in (select 1);")
    for stmt in sqlparse.parse(sql):
        out += len(stmt.tokens) + len(str(stmt))
    out += len(sqlparse.format(sql, reindent=True, keyword_case="upper"))
    out += len(sqlparse.split(sql))
    num = pp.pyparsing_common.number
    expr = pp.infix_notation(num | pp.Word(pp.alphas), [(pp.one_of("* /"), 2, pp.OpAssoc.LEFT),
                                                         (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT)])
    for text in ("1 + 2 * x - 4 / (5 + y)", "((a))", "3 * (4 + 5) * 6", "1 + + 2", "(1 + 2"):
        try:
            out += len(str(expr.parse_string(text, parse_all=True)))
        except pp.ParseException as e:
            out += e.loc
    return out


def main():
    lib, out_path = sys.argv[1], sys.argv[2]
    pkgs = PACKAGES[lib]
    dirs = [os.path.dirname(importlib.util.find_spec(p).origin) for p in pkgs]
    t = exact_tracer.Tracer(dirs, [os.path.abspath(__file__)])
    t.start()
    try:
        result = globals()["run_" + lib]()
        gc.collect()  # weakref callbacks of the run's garbage fire while traced
    finally:
        t.stop()
    mps = exact_tracer.module_paths(pkgs)
    mps[os.path.abspath(__file__)] = os.path.basename(__file__)
    t.dump(out_path, mps)
    print("result", result, flush=True)
    # What runs after the reference stopped (interpreter teardown) would be counted by the sensor
    # only: send now and leave without teardown.
    if "hud_sensor" in sys.modules:
        sys.modules["hud_sensor"].shutdown(5.0)
    os._exit(0)


if __name__ == "__main__":
    main()

"""The documentation site: API pages, the loss gallery, the zoo's model
cards, the migration guide and the tutorials, built with Sphinx.

`keraslosses docs` (`build`) stages the hand-written pages shipped here
(`pages/`), the API pages generated from the packages (`api`), the gallery
drawn by the library itself (`gallery`) and a card per manifest entry
(`cards`), then runs Sphinx nitpicky with warnings as errors
(`--no-strict` to see every warning without failing).
"""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

log = logging.getLogger("keraslosses")

#: the hand-written pages and the Sphinx configuration shipped here
PAGES = resources.files(__name__) / "pages"
CONF_DIR = Path(__file__).resolve().parent


class DocsError(RuntimeError):
    """The site does not build: a Sphinx warning under strict, or a public
    name without a docstring."""


def tutorials():
    """The tutorial pages, {stem: Markdown text}, in reading order."""
    folder = PAGES / "tutorials"
    return {p.name[:-3]: p.read_text() for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".md") and p.name != "index.md"}


def stage(source, data_dir=None, card_pictures=True, pictures_dir=None):
    """Writes every page of the site under `source` (a folder); the cards'
    pictures come from `pictures_dir` (see `cards`)."""
    from models.docs import api, cards, gallery

    source = Path(source)
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(PAGES, source)
    page_list = api.pages()
    missing = api.check_docstrings(page_list)
    if missing:
        raise DocsError("public names without a docstring: " + ", ".join(missing))
    (source / "api").mkdir()
    for page in page_list:
        (source / "api" / f"{page.stem}.rst").write_text(page.rst())
    (source / "api" / "index.rst").write_text(api.index_rst(page_list))
    (source / "api" / "models_internals.rst").write_text(api.internals_rst())
    gallery.write_page(source / "gallery")
    cards.write_pages(source / "zoo", data_dir=data_dir, pictures=card_pictures, pictures_dir=pictures_dir)
    return source


def build(output_dir="site", strict=True, data_dir=None, card_pictures=True, pictures_dir=None):
    """Builds the HTML site into `output_dir`/html; returns its index path.

    The model cards' pictures are taken from `pictures_dir` (default
    `cards.default_pictures_dir`: a checkout's `saved_models/cards/`, else
    `output_dir/pictures`), and drawn there from `data_dir` where missing.

    Raises:
        DocsError: a warning under `strict` (nitpicky: every cross-reference
            must resolve), or a public name without a docstring.
    """
    from sphinx.cmd.build import build_main

    from models.docs import cards

    output_dir = Path(output_dir)
    source = stage(output_dir / "source", data_dir=data_dir, card_pictures=card_pictures,
                   pictures_dir=pictures_dir or cards.default_pictures_dir(output_dir))
    html = output_dir / "html"
    arguments = ["-b", "html", "-c", str(CONF_DIR), "-d", str(output_dir / "doctrees"), "-q", "-n"]
    if strict:
        arguments += ["-W", "--keep-going"]
    status = build_main([*arguments, str(source), str(html)])
    if status:
        raise DocsError(f"Sphinx failed (exit status {status}); its warnings are above")
    log.info("site built: %s", html / "index.html")
    return html / "index.html"


def serve(html_dir, port=8000):
    """Serves the built site on http://localhost:`port` until interrupted."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        log.info("serving the site on http://localhost:%d (Ctrl-C stops)", port)
        server.serve_forever()

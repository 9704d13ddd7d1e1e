"""The API reference pages: one per loss family and one per model family.

The pages are generated from the packages themselves, so every public name
(`keraslosses.__all__`, `models.__all__`) lands on exactly one page, the
page of the module that defines it; `check_docstrings` lists the public
names (and their public methods) that have no docstring, which fails the
strict build.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field

from models.docs.conf import OUR_PACKAGES

#: model-zoo modules -> the page that documents them (the rest of each
#: module's public names are internal to the zoo).
MODEL_PAGES = {
    "models.families.super_encoder": "super_encoder",
    "models.families.auto_classifier": "auto_classifier",
    "models.families.cnn": "cnn",
    "models.families.autoencoders": "autoencoders",
    "models.families.variational": "variational",
    "models.families.adversarial": "adversarial",
    "models.families.registry": "registry",
    "models.core.game": "game",
    "models.core.labels": "game",
    "models.core.precision": "game",
    "models.pretrained": "pretrained",
}


#: the zoo's building blocks that the public docstrings link to
INTERNALS = ("models.core.networks", "models.core.conditional", "models.core.labels", "models.core.compat",
             "models.evaluation", "models.evaluation.paper")

#: building blocks that live in a module with a front-door page (so not a
#: whole `INTERNALS` module) but that a documented class inherits from: the
#: page's "Bases:" line links to them, and a dangling link fails the build.
INTERNAL_CLASSES = ("models.core.game.ClassifierCode",)


@dataclass
class Page:
    """One API page: its file stem, title, introduction and names."""

    stem: str
    package: str
    title: str
    intro: str
    names: list = field(default_factory=list)

    def rst(self):
        """The page as reStructuredText (autodoc directives)."""
        # The empty comment ("..") ends the directive before an intro that
        # opens with an indented block (a doctest).
        lines = [self.title, "=" * len(self.title), "", f".. currentmodule:: {self.package}", "", "..", "",
                 self.intro, ""]
        package = importlib.import_module(self.package)
        for name in self.names:
            directive = "autoclass" if inspect.isclass(getattr(package, name)) else "autofunction"
            lines += [f".. {directive}:: {name}", ""]
        return "\n".join(lines)


def _split(doc):
    """(title, rest) of a module docstring."""
    doc = inspect.cleandoc(doc or "")
    head, _, rest = doc.partition("\n\n")
    return " ".join(head.split()).rstrip("."), rest


def pages():
    """Every API page, losses first; each public name is on exactly one."""
    import keraslosses
    import models

    found = {}
    for name in keraslosses.__all__:
        value = getattr(keraslosses, name)
        if not callable(value):
            continue  # __version__
        module = value.__module__
        stem = module.split(".")[-1].lstrip("_")
        if stem not in found:
            title, intro = _split(importlib.import_module(module).__doc__)
            found[stem] = Page(f"losses_{stem}", "keraslosses", title, intro)
        found[stem].names.append(name)
    for name in models.__all__:
        module = models._EXPORTS[name]
        stem = MODEL_PAGES[module]
        if stem not in found:
            title, intro = _split(importlib.import_module(module).__doc__)
            found[stem] = Page(f"models_{stem}", "models", title, intro)
        found[stem].names.append(name)
    return list(found.values())


def _public_methods(cls):
    """The public methods and properties a class defines itself."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            yield name, value


def check_docstrings(page_list):
    """The public names (and public methods) without a docstring, as
    "package.Name.method" strings; empty when every one has one."""
    missing = []
    for page in page_list:
        package = importlib.import_module(page.package)
        for name in page.names:
            value = getattr(package, name)
            if not (value.__doc__ or "").strip():
                missing.append(f"{page.package}.{name}")
            if inspect.isclass(value):
                # an override inherits its base's docstring (inspect.getdoc)
                missing += [f"{page.package}.{name}.{method}" for method, _ in _public_methods(value)
                            if not inspect.getdoc(getattr(value, method))]
    return missing


def internals_rst():
    """The page of the zoo's building blocks (`INTERNALS`), module by module."""
    lines = ["Under the hood: networks, games, labels, evaluation", "=" * 51, "",
             ("The building blocks the model families are made of (the networks of every player, the games' "
             "discriminator terms, label handling, the Keras compatibility shims) and the evaluation protocol "
             "with the paper's figures. Not part of the front door; documented because the other pages refer "
             "to them."), ""]
    for module in INTERNALS:
        lines += [f".. automodule:: {module}", ""]
    for name in INTERNAL_CLASSES:
        lines += [f".. autoclass:: {name}", ""]
    return "\n".join(lines)


def _canonical(value):
    return f"{value.__module__}.{value.__qualname__}"


def _documented(page_list):
    """The canonical dotted names (``module.Name``) the site documents: the
    names on `page_list`, the public classes of `INTERNALS`, and
    `INTERNAL_CLASSES`."""
    found = set(INTERNAL_CLASSES)
    for page in page_list:
        package = importlib.import_module(page.package)
        found |= {_canonical(getattr(package, name)) for name in page.names}
    for module_name in INTERNALS:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        found |= {f"{module_name}.{n}" for n in public if inspect.isclass(getattr(module, n, None))
                  and getattr(module, n).__module__ == module_name}
    return found


def undocumented_bases(page_list):
    """The bases from our packages that a documented class names on its
    "Bases:" line but that no page documents (``"Class -> Base"`` strings):
    under the strict build each one is a broken reference."""
    documented = _documented(page_list)
    missing = []
    for page in page_list:
        package = importlib.import_module(page.package)
        for name in page.names:
            value = getattr(package, name)
            if not inspect.isclass(value):
                continue
            for base in value.__bases__:
                if base.__module__.split(".")[0] in OUR_PACKAGES and _canonical(base) not in documented:
                    missing.append(f"{page.package}.{name} -> {_canonical(base)}")
    return missing


def index_rst(page_list):
    """The API index: the loss pages, then the model pages."""
    losses = [p.stem for p in page_list if p.stem.startswith("losses_")]
    zoo = [p.stem for p in page_list if p.stem.startswith("models_")]
    lines = ["API reference", "=============", "",
             "Every public name of ``keraslosses`` and of the zoo's front door ``models``, one page per family.", "",
             "Losses", "------", "", ".. toctree::", "   :maxdepth: 1", "", *[f"   {s}" for s in losses], "",
             "Models", "------", "", ".. toctree::", "   :maxdepth: 1", "", *[f"   {s}" for s in zoo], "   models_internals", ""]
    return "\n".join(lines)

"""Sphinx configuration of the keraslosses site (read by `models.docs.build`).

Sphinx, not MkDocs: the docstrings are reStructuredText with Google-style
sections (``.. math::`` blocks, single-backtick cross-references such as
`keraslosses.huber`), which Sphinx renders as written (napoleon for the
sections, MathJax for the math) and checks: the build runs nitpicky with
warnings as errors, so a reference that does not resolve fails it.
"""

project = "keraslosses"
author = "the keraslosses authors"
copyright = "2026, the keraslosses authors"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# The docstrings follow Keras' habit: `text` in single backticks is code.
# It becomes a link when it names a documented object (`huber`,
# `models.SuperEncoder`), and a dotted name into the two packages
# (`keraslosses.x`, `models.x`) must be one: nitpicky with warnings as errors
# fails the build on a reference there that does not resolve. Any other
# backticked text (`y_pred`, `fit(x, y)`, `keras.ops.where`) stays code.
default_role = "py:obj"
nitpicky = True
OUR_PACKAGES = ("keraslosses", "models")


def _code_unless_ours(app, env, node, contnode):
    """`missing-reference` handler: outside our packages, plain code."""
    target = node.get("reftarget", "")
    if node.get("refdomain") == "py" and target.split(".")[0] not in OUR_PACKAGES:
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _code_unless_ours)

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "pydata_sphinx_theme"
html_title = "keraslosses"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []
exclude_patterns = ["_build"]

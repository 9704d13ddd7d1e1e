"""`keraslosses docs`: build the documentation site (and serve it).

Builds the API pages, the loss gallery, the zoo's model cards, the
migration guide and the tutorials with Sphinx into `OUTPUT_DIR/html`,
nitpicky with warnings as errors (`--no-strict` lists every warning and
still writes the site). The model cards' pictures are kept per model file
in `--pictures-dir` (a checkout's `saved_models/cards/`, committed, else
`OUTPUT_DIR/pictures`); missing ones are drawn from the test splits
(`--data-dir` or `$KERASLOSSES_DATA_DIR`). Needs the `docs` extra:
`pip install 'keraslosses[docs]'` (from a checkout: `pip install '.[docs]'`).
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class DocsConfig:
    """Settings of one site build."""

    output_dir: str = "site"
    data_dir: str | None = None
    pictures_dir: str | None = None
    strict: bool = True
    serve: bool = False
    port: int = 8000

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be in 1..65535; received {self.port}")


def run(config: DocsConfig) -> int:
    """Builds the site of `config`; serves it when asked."""
    from models import docs

    try:
        index = docs.build(config.output_dir, strict=config.strict,
                           data_dir=config.data_dir or os.environ.get("KERASLOSSES_DATA_DIR"),
                           pictures_dir=config.pictures_dir)
    except docs.DocsError as err:
        raise ValueError(str(err)) from err
    if config.serve:
        docs.serve(index.parent, config.port)
    return 0


def add_arguments(parser) -> None:
    defaults = DocsConfig()
    parser.add_argument("--output-dir", default=defaults.output_dir,
                        help="the site goes to OUTPUT_DIR/html (default %(default)s)")
    parser.add_argument("--data-dir", help="folder with the MNIST / Fashion-MNIST IDX files, for the model cards' "
                                           "pictures (default $KERASLOSSES_DATA_DIR)")
    parser.add_argument("--pictures-dir", help="where the model cards' pictures are kept, a folder per model file "
                                               "(default: a checkout's saved_models/cards, else OUTPUT_DIR/pictures)")
    parser.add_argument("--no-strict", dest="strict", action="store_false",
                        help="report warnings without failing the build")
    parser.add_argument("--serve", action="store_true", help="serve the built site on http://localhost:PORT")
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.set_defaults(run=run, config=lambda a: DocsConfig(
        output_dir=a.output_dir, data_dir=a.data_dir, pictures_dir=a.pictures_dir, strict=a.strict, serve=a.serve,
        port=a.port))

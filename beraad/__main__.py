"""Allow `python -m beraad …` as well as the `beraad` console script."""

from .cli import main

main(prog_name="beraad")

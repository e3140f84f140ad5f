"""Allow `python -m webapp` as another name for the pressroom command."""

from webapp.cli import main

main()

"""Allow `python -m pressroom` as another name for the pressroom command."""

from pressroom.cli import main

if __name__ == "__main__":  # not when a "spawn" child re-imports the parent's main module
    main()

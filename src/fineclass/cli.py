"""The `fineclass` command: the shared app with every command module registered on it.

Importing a command module registers its commands; the import order is the order of `fineclass --help`.
"""

from fineclass.commands import train  # noqa: F401,I001
from fineclass.commands import evaluate  # noqa: F401
from fineclass.commands import calibrate  # noqa: F401
from fineclass.commands import predict  # noqa: F401
from fineclass.commands import explore  # noqa: F401
from fineclass.commands import audit  # noqa: F401
from fineclass.commands import compare  # noqa: F401
from fineclass.commands import learning_curve  # noqa: F401
from fineclass.commands import tune  # noqa: F401
from fineclass.commands import distill  # noqa: F401
from fineclass.commands import serve  # noqa: F401
from fineclass.commands import push  # noqa: F401
from fineclass.commands.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()

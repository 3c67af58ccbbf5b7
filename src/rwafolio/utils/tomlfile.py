"""Reading a TOML file (a run config or a walk-forward grid): bounded, UTF-8, one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from rwafolio.exceptions import ConfigError

__all__ = ["MAX_TOML_BYTES", "read_toml"]


#: The largest TOML file read (a config or grid file is a few KiB of text).
MAX_TOML_BYTES = 1 << 20


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; ``what`` names the parameter in error messages (e.g. ``"--config"``).

    Raises ConfigError (one line) for a missing or unreadable file, one larger than
    :data:`MAX_TOML_BYTES` (read no further: a device or an endless pipe), a byte-order mark, a
    file that is not UTF-8 and invalid TOML.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:  # a pipe (``<(...)``) is read once; a device or a stream is
            data = fh.read(MAX_TOML_BYTES + 1)  # bounded: /dev/zero never ends
        if len(data) > MAX_TOML_BYTES:
            raise ConfigError(
                f"`{what}` file {str(p)!r} is larger than {MAX_TOML_BYTES >> 20} MiB; a config "
                "is a small text file"
            )
        if data.startswith(b"\xef\xbb\xbf"):
            raise ConfigError(
                f"`{what}` file {str(p)!r} starts with a byte-order mark (BOM), which TOML does "
                "not allow; save it as UTF-8 without BOM"
            )
        return tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"`{what}` file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"`{what}` {str(p)!r} is a folder, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"`{what}` file {str(p)!r} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"`{what}` file {str(p)!r} is not UTF-8 text (byte {exc.start}); TOML must be UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ConfigError(f"`{what}` file {str(p)!r} is not valid TOML: {first}") from None

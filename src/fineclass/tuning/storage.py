"""Where a study lives, and how long a search may run.

SQLite at OUT/study.db by default (one process at a time); `journal:PATH` for several processes on one machine or a
shared disk; `postgresql://...` or `mysql://...` for several machines. RDB storages record heartbeats, so a trial left
RUNNING by a killed process is failed when the study resumes; journal storage has none, so each trial records its
host and process id, and a rerun fails the RUNNING trials of processes on this host that are gone.
"""

from __future__ import annotations

import os
import re
import socket
from contextlib import contextmanager
from pathlib import Path

from fineclass.errors import ConfigError, shown

STUDY_DB = "study.db"
HEARTBEAT_SECONDS = 30
"""How often a running trial writes its heartbeat to an RDB storage."""
GRACE_SECONDS = 120
"""A RUNNING trial with no heartbeat for this long belongs to a dead process and is failed."""
RDB_SCHEMES = ("sqlite", "postgresql", "mysql")
HOST, PID = "host", "pid"
"""Trial user attributes: the process that runs the trial."""


def storage_url(spec: str | None, out: Path) -> str:
    """The storage as a checked string: sqlite:///OUT/study.db, journal:PATH, or a database URL."""
    if spec is None:
        return f"sqlite:///{(Path(out) / STUDY_DB).absolute()}"
    text = str(spec).strip()
    if text.startswith("journal:"):
        path = Path(text[len("journal:"):]).expanduser()
        if not str(path) or not path.name:
            raise ConfigError(f"--storage {shown(spec)} needs a file, like journal:runs/study.journal")
        if not path.absolute().parent.is_dir():
            raise ConfigError(f"--storage {shown(spec)}: the directory {path.absolute().parent} does not exist; create it "
                              "first (a shared disk for several machines)")
        return f"journal:{path.absolute()}"
    scheme = re.match(r"^([a-z0-9]+)(\+[a-z0-9_]+)?://.+", text)
    if scheme is None or scheme.group(1) not in RDB_SCHEMES:
        raise ConfigError(f"--storage {shown(spec)} is not a storage tune can use; give journal:PATH, "
                          "sqlite:///PATH, or a database URL: postgresql://... or mysql://...")
    return text


def is_shared(url: str) -> bool:
    """Several processes may run trials of the study at once (anything but the default SQLite file)."""
    return not url.startswith("sqlite:")


def open_storage(url: str):
    """The Optuna storage for a checked URL (heartbeats on RDB storages)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if url.startswith("journal:"):
        return JournalStorage(JournalFileBackend(url[len("journal:"):]))
    try:
        return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS)
    except ImportError as err:
        raise ConfigError(f"--storage {url.split(':', 1)[0]}: its database driver is not installed ({err}); install it, "
                          "like pip install psycopg2-binary (PostgreSQL) or pymysql (MySQL, as mysql+pymysql://)") from None
    except Exception as err:  # sqlalchemy's OperationalError: no server, a wrong password, a file it cannot open
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"--storage: cannot open the study storage: {message}") from None


@contextmanager
def storage_lock(url: str):
    """An exclusive lock beside a journal file, so processes starting together queue the first points once
    (a database serialises itself well enough: the window there is milliseconds)."""
    if not url.startswith("journal:"):
        yield
        return
    import fcntl

    with open(url[len("journal:"):] + ".fineclass-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def mark_process(trial) -> None:
    """Record which process runs `trial`, so a rerun can tell a dead process's trial from a live one's."""
    trial.set_user_attr(HOST, socket.gethostname())
    trial.set_user_attr(PID, os.getpid())


def fail_dead_trials(study) -> list[int]:
    """Fail the RUNNING trials whose process (on this host) is gone; returns their numbers.

    RDB storages also fail them by heartbeat (after GRACE_SECONDS), which covers other hosts; journal storage
    cannot tell a trial of a dead process on another machine from a live one."""
    from optuna.trial import TrialState

    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = trial.user_attrs
        if attrs.get(HOST) == host and isinstance(attrs.get(PID), int) and not process_alive(attrs[PID]):
            try:
                study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
                failed.append(trial.number)
            except (ValueError, RuntimeError):  # finished meanwhile
                pass
    return failed


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def parse_timeout(text: str | float | int | None) -> float | None:
    """'45m', '2h', '90s', '1h30m' or a number of seconds, to seconds; None for no limit."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip().lower()
        parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?", value)
        if not value or parts is None or not any(parts.groups()):
            raise ConfigError(f"--timeout {shown(text)} must be a duration like 45m, 2h, 90s or 1h30m")
        hours, minutes, secs = (float(g) if g else 0.0 for g in parts.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not seconds > 0:
        raise ConfigError(f"--timeout {shown(text)} must be longer than 0, like 45m")
    return seconds

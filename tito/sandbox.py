"""One disposable bubblewrap sandbox per grading kernel.

A submission's kernel is started by `bwrap` (Debian's `bubblewrap`, the sandbox Flatpak uses) in new PID,
network, IPC and UTS namespaces. What it sees:

| path | what | access |
|---|---|---|
| `/usr`, `/lib*`, `/bin`, `/sbin` | the system (shared libraries, `setpriv`, `prlimit`) | read-only |
| the interpreter's prefix | Python's standard library; every site-packages folder on the machine is hidden | read-only |
| `/opt/tito/env` | a virtual environment: numpy and ipykernel (with their dependencies) from this Python, and the `tinytorch` package exactly as the student release ships it (graded modules as stubs) | read-only |
| `/home/student` | its working directory, empty | writable, bounded |
| `/tmp` | its own | writable, bounded |
| a `tito-kernel-*` folder | the kernel's sockets (ZeroMQ over Unix sockets: there is no network) | writable |

Nothing else: no repository, no `course/` (gradebook, source notebooks, records), no other submission, no
grader process to signal. The kernel runs as an unprivileged user with no capabilities, under rlimits on
memory, processes, file size and CPU time. When the kernel exits, or the grader kills the sandbox, the PID
namespace ends and every process left in it (a daemon, say) is killed with it.

When tito runs as root, sandbox number n runs as uid UID_BASE + n (a lock file per number), so the process
limit of one sandbox never counts another's processes. As an ordinary user, every sandbox runs as that
user in a user namespace; the process limit is then set above what the user already runs.
"""
import compileall
import fcntl
import functools
import importlib.metadata
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import TitoError

# What a notebook may import besides tinytorch and the standard library (and what these depend on), except
# the debugger and tab completion: a grading kernel uses neither, and importing them doubles its start-up.
DISTRIBUTIONS = ("numpy", "ipykernel")
LEFT_OUT = ("debugpy", "jedi", "parso")
ENV = Path("/opt/tito/env")
HOME = "/home/student"
UID_BASE = 3_000_000
SLOTS = Path(tempfile.gettempdir()) / "tito-sandbox-slots"
CACHE = Path(tempfile.gettempdir()) / "tito-sandbox-packages"
INSTALL_HINT = ("tito grade runs each submission in a bubblewrap sandbox: install it (Debian/Ubuntu: "
                "`apt-get install bubblewrap`, Fedora: `dnf install bubblewrap`), or grade trusted notebooks "
                "with --no-sandbox")


def check_available() -> None:
    """Raise TitoError, saying what to install, when bwrap is missing or cannot make a sandbox here."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise TitoError(f"bwrap not found. {INSTALL_HINT}")
    probe = subprocess.run([bwrap, *_user_namespace(), "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net",
                            "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise TitoError(f"bwrap cannot create a sandbox on this machine ({probe.stderr.strip()}); unprivileged "
                        "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1)")


def _is_root() -> bool:
    return os.geteuid() == 0


def _user_namespace() -> list:
    """As root, bwrap keeps just the capabilities that `setpriv` needs to switch to the sandbox's uid."""
    if _is_root():
        return ["--cap-drop", "ALL", *(a for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
                                       for a in ("--cap-add", cap))]
    return ["--unshare-user", "--uid", "65534", "--gid", "65534"]


# ------------------------------------------------------------------------------------ the environment
def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def site_items() -> tuple:
    """The top-level files and folders of site-packages that DISTRIBUTIONS and their dependencies installed."""
    from packaging.requirements import Requirement

    seen, todo, items = set(), list(DISTRIBUTIONS), set()
    while todo:
        distribution = importlib.metadata.distribution(todo.pop())
        if _key(distribution.metadata["Name"]) in seen or _key(distribution.metadata["Name"]) in LEFT_OUT:
            continue
        seen.add(_key(distribution.metadata["Name"]))
        for path in distribution.files or ():
            if path.parts and path.parts[0] != "..":   # `..`: scripts installed outside site-packages
                items.add(Path(distribution.locate_file(path.parts[0])))
        for text in distribution.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return tuple(sorted(item for item in items if item.exists()))


def _hidden_site_folders() -> list:
    """Every site-packages / dist-packages folder a sandboxed Python could reach: each is masked."""
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    candidates = {base["purelib"], base["platlib"]}
    for pattern in ("lib/python3*/dist-packages", "lib/python3*/site-packages",
                    "local/lib/python3*/dist-packages", "local/lib/python3*/site-packages"):
        candidates.update(str(p) for p in Path("/usr").glob(pattern))
    return sorted(c for c in candidates if Path(c).is_dir())


def materialize(package: dict) -> Path:
    """The student `tinytorch` package ({"key", "files": {relative path: text}}) as a folder on this machine.

    Kept in a cache under the temporary directory (a Dask worker receives the files with each job), with its
    bytecode compiled, since the sandbox cannot write `__pycache__`.
    """
    folder = _private(CACHE) / package["key"]
    if (folder / "tinytorch").is_dir():
        return folder
    scratch = Path(tempfile.mkdtemp(dir=CACHE))
    for name, text in package["files"].items():
        path = scratch / "tinytorch" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    compileall.compile_dir(scratch / "tinytorch", quiet=1)
    (scratch / "pyvenv.cfg").write_text(f"home = {Path(_interpreter()).parent}\ninclude-system-site-packages = "
                                        f"false\nversion = {platform.python_version()}\n", encoding="utf-8")
    os.chmod(scratch, 0o755)
    try:
        scratch.rename(folder)
    except OSError:   # another worker on this machine won the race: use its copy
        shutil.rmtree(scratch)
    return folder


def _interpreter() -> str:
    """The real Python executable behind this (virtual) environment."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


# -------------------------------------------------------------------------------------- the command
@dataclass
class Sandbox:
    package: Path        # a folder holding tinytorch/ and pyvenv.cfg (see materialize)
    limits: dict         # see tito.course.LIMITS
    uid: int = None      # the sandbox's own uid (root graders); None: the user's, in a user namespace

    @property
    def python(self) -> str:
        return str(ENV / "bin" / "python")

    def command(self, argv: list, sockets: Path) -> list:
        """bwrap ... -- <drop privileges> <limits> argv, with `sockets` (a host folder) writable inside."""
        return ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "sandbox", *_user_namespace(), *self._system(),
                *self._environment(), *self._writable(sockets), *self._variables(), "--",
                *self._privileges(), *self._rlimits(), *argv]

    @staticmethod
    def _system() -> list:
        args = ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
                "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64"):
            path = Path("/", name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        prefix = Path(sys.base_prefix)
        if Path("/usr") not in (prefix, *prefix.parents):
            args += [*_traversable_parents(prefix), "--ro-bind", str(prefix), str(prefix)]
        for folder in _hidden_site_folders():
            args += ["--tmpfs", folder, "--remount-ro", folder]
        return args

    def _environment(self) -> list:
        site = ENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        args = ["--tmpfs", str(ENV), "--dir", str(ENV / "bin"), "--symlink", _interpreter(), self.python,
                "--ro-bind", str(self.package / "pyvenv.cfg"), str(ENV / "pyvenv.cfg"), "--dir", str(site)]
        for item in site_items():
            args += ["--ro-bind", str(item), str(site / item.name)]
        return args + ["--ro-bind", str(self.package / "tinytorch"), str(site / "tinytorch"),
                       "--remount-ro", str(ENV)]

    def _writable(self, sockets: Path) -> list:
        size = str(self.limits["disk"] * 2**20)
        return ["--perms", "0777", "--size", size, "--tmpfs", HOME, "--perms", "01777", "--size", size,
                "--tmpfs", "/tmp", *_traversable_parents(sockets), "--bind", str(sockets), str(sockets),
                "--chdir", HOME]

    @staticmethod
    def _variables() -> list:
        values = {"HOME": HOME, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
                  "PATH": f"{ENV}/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                  "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                  "NBGRADER_EXECUTION": "autograde"}   # what nbgrader tells a kernel that it is grading
        return ["--clearenv", *(a for name, value in values.items() for a in ("--setenv", name, value))]

    def _privileges(self) -> list:
        if self.uid is None:
            return []
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs",
                "--inh-caps=-all", "--bounding-set=-all", "--"]

    def _rlimits(self) -> list:
        mib, limits = 2**20, self.limits
        processes = limits["processes"] + (0 if self.uid is not None else _tasks_of(os.getuid()))
        return ["prlimit", f"--as={limits['memory'] * mib}", f"--nproc={processes}",
                f"--fsize={limits['disk'] * mib}", f"--cpu={limits['notebook_timeout']}", "--core=0", "--"]


def _private(folder: Path) -> Path:
    """`folder` (made if missing), refused unless it is ours and nobody else can write in it: it lies in the
    shared temporary directory, where another user could have made it first to plant a package or a lock."""
    folder.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise TitoError(f"{folder} is not a folder of this user's that only it can write to: remove it and "
                        "grade again")
    return folder


def _traversable_parents(path: Path) -> list:
    """bwrap arguments that create `path`'s parents inside the sandbox, each 0755 (bwrap's default, 0700 when
    it runs as root, would keep the sandbox's uid out of e.g. /root/.pyenv or a $TMPDIR below /tmp)."""
    args = []
    for parent in reversed(path.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _tasks_of(uid: int) -> int:
    """Threads the user runs now: RLIMIT_NPROC counts them all, the sandbox's and the rest."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:   # the process ended while we looked
            continue
        if int(fields["Uid"].split()[0]) == uid:
            count += int(fields["Threads"])
    return count


@contextmanager
def uid_slot():
    """The uid of a sandbox of this machine's (root only; None otherwise), held until the block ends."""
    if not _is_root():
        yield None
        return
    _private(SLOTS)
    for number in range(1024):
        handle = open(SLOTS / f"{number}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield UID_BASE + number
        finally:
            handle.close()
        return
    raise RuntimeError(f"all 1024 sandbox uids of this machine are in use (locks in {SLOTS})")

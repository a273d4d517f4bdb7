"""Helpers shared by the PyTorch counterparts of triad's experiments
(scripts/*_torch.py), so that each reads its thread count and options, finds
its data, reads MNIST, splits words, plans its steps, keeps its best weights
and reports its memory the same way.

pin_threads() must run before `import torch`: Debian's python3-torch calls
OpenBLAS, which sizes its thread pool when the library loads, starting a thread
per core unless OPENBLAS_NUM_THREADS says otherwise; torch.set_num_threads
afterwards does not reach it. So a script calls pin_threads() first (at module
level when it imports torch there, else in main just before the import), and
this module itself never imports torch.

A script imports this module as `import torch_common` (or `from torch_common
import ...`): Python puts the script's own folder on sys.path.
"""
import gzip
import os
import resource
import struct
import sys
import unicodedata

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def threads_arg(default="1"):
    """The value of --threads N or --threads=N in sys.argv (the first one), as
    a string; default when there is none. Read before argparse runs, since the
    thread variables must be set before torch loads."""
    for i, x in enumerate(sys.argv):
        if x == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if x.startswith("--threads="):
            return x.split("=", 1)[1]
    return default


def pin_threads():
    """Sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS, each one
    not set already, to --threads (default 1). Call it before importing torch."""
    n = threads_arg()
    for v in THREAD_VARS:
        os.environ.setdefault(v, n)
    return n


def run_args(ap, data_help, epochs, epochs_help="training epochs", eval_every=None, eval_help="evaluate every N steps"):
    """Adds the options every counterpart takes, as memory_report.sh runs them:
    --data, --epochs, --max-steps, --seed, --threads and, when eval_every is
    not None, --eval-every."""
    ap.add_argument("--data", default="", help=data_help)
    ap.add_argument("--epochs", type=int, default=epochs, help=epochs_help)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps, then run the final evaluation (0: the epochs)")
    if eval_every is not None:
        ap.add_argument("--eval-every", type=int, default=eval_every, help=eval_help)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="torch's threads, and the BLAS's unless OPENBLAS_NUM_THREADS is set")


def epoch_args(ap, dataset, epochs, batch, lr):
    """run_args for a counterpart that trains by epochs on the dataset folder
    named dataset and evaluates at the end of each epoch unless --eval-every
    says otherwise, then --batch and --lr with their defaults."""
    run_args(ap, "datasets folder holding %s/ (or the %s folder itself); default $TRIAD_DATA, else ../shared/data from the repository" % (dataset, dataset),
             epochs, eval_every=0, eval_help="evaluate every N steps (0: at the end of each epoch)")
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--lr", type=float, default=lr)


def seed_torch(torch, threads, seed):
    """Sets torch's threads and its seed, and returns torch."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch


def start_torch(threads, seed):
    """Pins the BLAS threads, imports torch, sets its threads and its seed, and
    returns the module: the start of a script that imports torch in main."""
    pin_threads()
    import torch
    return seed_torch(torch, threads, seed)


def step_plan(a, steps_per_epoch):
    """The steps of a run of epoch_args's options a and the steps between its
    evaluations: a.epochs epochs of steps_per_epoch, cut to a.max_steps when
    that is positive; a.eval_every, or an epoch when it is 0."""
    total = a.epochs * steps_per_epoch
    if a.max_steps > 0:
        total = min(total, a.max_steps)
    return total, a.eval_every if a.eval_every > 0 else steps_per_epoch


class Best:
    """The weights of a model at its best evaluation so far, the highest score
    (the first of equal ones), which the final evaluation restores."""

    def __init__(self):
        self.score, self.step, self.state = None, -1, None

    def offer(self, model, score, step):
        """Keeps a copy of model's weights when score beats the best so far."""
        if self.score is None or score > self.score:
            self.score, self.step = score, step
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model):
        """Loads the best weights into model, if any evaluation kept them."""
        if self.state is not None:
            model.load_state_dict(self.state)


def find_data(arg, name, probe, prog):
    """Returns the folder of dataset name: arg (the --data option) when given,
    else $TRIAD_DATA's entries and then ../shared/data from the repository;
    name inside one of them, or the root itself, the first that holds probe.
    probe is a file name, or a predicate called with a folder path. Exits with
    a line naming prog (the script) when none does."""
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [arg] if arg else [p for p in os.environ.get("TRIAD_DATA", "").split(os.pathsep) if p] + [os.path.join(here, "..", "..", "shared", "data")]
    ok = probe if callable(probe) else (lambda d: os.path.exists(os.path.join(d, probe)))
    for root in roots:
        for d in (os.path.join(root, name), root):
            if ok(d):
                return d
    what = "%s data" % name if callable(probe) else probe
    sys.exit("%s: no %s in %s (set --data or $TRIAD_DATA)" % (prog, what, ", ".join(roots)))


def read_idx(path):
    """Reads a gzipped IDX file of uint8 values: (dims, bytes), the values read
    straight into one buffer."""
    with gzip.open(path, "rb") as f:
        zero, kind, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or kind != 0x08:
            sys.exit("%s: not an IDX file of uint8 values" % path)
        dims = struct.unpack(">%dI" % ndim, f.read(4 * ndim))
        n = 1
        for k in dims:
            n *= k
        buf = bytearray(n)
        if f.readinto(buf) != n:
            sys.exit("%s: shorter than its %s values" % (path, dims))
    return dims, buf


def _category(c):
    return unicodedata.category(c)


def _is_word(c):
    return _category(c)[0] in "LMN"


def _joins(prev, c, nxt):
    """Whether c, between prev and nxt, stays inside a word."""
    if c in "'\u2019":
        return _category(prev)[0] in "LM" and _category(nxt)[0] == "L"
    if c in "-\u2010":
        return _is_word(prev) and _is_word(nxt)
    if c in ".,":
        return _category(prev) == "Nd" and _category(nxt) == "Nd"
    return False


def word_tokens(s):
    """triad's vocab.WordTokenizer (not lowercased): runs of letters, marks and
    numbers (keeping an apostrophe between letters, a hyphen between word
    characters, a full stop or comma between digits), every other visible
    character a token with its trailing marks; white space and controls dropped."""
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace() or _category(c) == "Cc":
            i += 1
        elif _is_word(c):
            j = i + 1
            while j < n:
                if _is_word(s[j]):
                    j += 1
                elif j + 1 < n and _joins(s[j - 1], s[j], s[j + 1]):
                    j += 2
                else:
                    break
            out.append(s[i:j])
            i = j
        else:
            j = i + 1
            while j < n and _category(s[j])[0] == "M":
                j += 1  # a variation selector or accent stays with its symbol
            out.append(s[i:j])
            i = j
    return out


def log(*a):
    """Prints a progress line to stderr, flushed."""
    print(*a, file=sys.stderr, flush=True)


def peak_rss_mb(ndigits=1):
    """The peak resident memory of this process so far, MB (ru_maxrss / 1024;
    Linux gives ru_maxrss in KB), rounded to ndigits; None: not rounded."""
    mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return mb if ndigits is None else round(mb, ndigits)

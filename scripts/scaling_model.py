#!/usr/bin/env python3
"""The scaling model of docs/SCALING.md: prints its tables (Markdown).

A synchronous data-parallel step costs the compute of one rank's shard plus one
ring all-reduction of the fused float32 gradient buffer (n parameters, 4n bytes),
which does not overlap the compute in triad:

    t_allreduce(p) = 2 (p - 1) alpha + 2 (p - 1) / p * 4 n / beta

(reduce-scatter then all-gather, each p - 1 rounds; Patarasuk and Yuan,
"Bandwidth optimal all-reduce algorithms for clusters of workstations", J.
Parallel Distrib. Comput. 69(2), 2009), with alpha the latency of one message
and beta the bandwidth of a link.

Compute per step, one rank of one core: the char LSTMs' CPU seconds per step
measured on this project's 2-core development machine (scripts/cpu_per_step.py,
one thread, OpenBLAS); for the others, the floating-point work of the forward
and backward passes, 3 x 2 x (multiply-adds of the forward pass), at R FLOP/s.
Weak scaling keeps each rank's batch (the global batch grows with p); strong
scaling splits the reference batch, with a part f of the step (the solver
update and per-operation overheads, repeated on every rank) that does not
shrink:

    t(p) = f t(1) + (1 - f) t(1) / p + t_allreduce(p)

Standard library only.
"""

# --- reference configurations: (name, parameters, forward multiply-adds per step,
# batch that a step splits across ranks)
V = 69  # tinyshakespeare's characters plus triad's special symbols (triad lm prints it)


def lstm(h, layers=2, e=None, tokens=50 * 50, gates=4):
    e = e or h
    per_layer = [gates * h * ((e if k == 0 else h) + h) + 2 * gates * h for k in range(layers)]
    params = V * e + sum(per_layer) + h * V + V
    macs = tokens * (sum(gates * h * ((e if k == 0 else h) + h) for k in range(layers)) + h * V)
    return params, macs


def vae(d=784, hid=400, z=20, batch=128):
    params = (d * hid + hid) + 2 * (hid * z + z) + (z * hid + hid) + (hid * d + d)
    macs = batch * (d * hid + 2 * hid * z + z * hid + hid * d)
    return params, macs


def transformer(d=256, ff=1024, enc=3, dec=3, vsrc=8000, vtgt=8000, src=1280, tgt=1280, length=20):
    attn = 4 * (d * d + d)
    ffn = d * ff + ff + ff * d + d
    ln = 2 * d
    params = vsrc * d + vtgt * d + enc * (attn + ffn + 2 * ln) + dec * (2 * attn + ffn + 3 * ln) + 2 * ln + d * vtgt + vtgt
    # projections and feed-forward per token, attention scores and weighted sums
    # (2 L d per token per attention), the output layer per target token
    enc_tok = enc * (4 * d * d + 2 * d * ff + 2 * length * d)
    dec_tok = dec * (8 * d * d + 2 * d * ff + 4 * length * d) + d * vtgt
    return params, src * enc_tok + tgt * dec_tok


# (name, parameters, multiply-adds, batch split by strong scaling, measured seconds
# per step at one thread or None, fixed part f)
CONFIGS = [
    ("char LSTM 2x128", *lstm(128), 50, 0.086, 0.0),  # B=25: 0.042 s, so f ~ 0
    ("char LSTM 2x512", *lstm(512), 50, 0.867, 0.15),  # B=25: 0.500 s: f = (2*0.500-0.867)/0.867
    ("char GRU 2x128", *lstm(128, gates=3), 50, None, 0.10),
    ("VAE 784-400-20", *vae(), 128, None, 0.10),
    ("Transformer d256 3+3", *transformer(), 64, None, 0.10),
]

# --- machines
R = 50e9  # FLOP/s of one rank (one core) where no step time was measured; the
# measured LSTM steps give 47 (2x128) and 73 (2x512) GFLOP/s
LINKS = [  # (name, alpha seconds, beta bytes/s)
    ("10 Gb/s Ethernet (TCP)", 30e-6, 10e9 / 8),
    ("100 Gb/s InfiniBand", 2e-6, 100e9 / 8),
]
RANKS = [2, 4, 8, 16, 32, 64]


def step(macs, measured):
    """Seconds per step on one rank."""
    return measured if measured else 6 * macs / R


def allreduce(n, p, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * 4 * n / beta


def main():
    print("| configuration | parameters | gradient buffer | GFLOP per step | compute per step, 1 rank |")
    print("|---|---:|---:|---:|---:|")
    for name, n, macs, _, t1, _ in CONFIGS:
        flop = 6 * macs
        how = "measured" if t1 else "estimated"
        print(f"| {name} | {n:,} | {4 * n / 1e6:.2f} MB | {flop / 1e9:.2f} | {step(macs, t1) * 1e3:.0f} ms ({how}) |")
    table("All-reduction time and weak-scaling efficiency, {link} "
          "(alpha = {alpha_us:g} us, beta = {beta_gbs:g} GB/s); each rank keeps the reference batch:", weak)
    table("Strong scaling (the reference batch split across p ranks; - where p exceeds it), "
          "speed-up over one rank, {link}:", strong)

def weak(n, batch, tc, f, p, alpha, beta):
    """The all-reduction time and efficiency of p ranks, each with the reference batch."""
    ta = allreduce(n, p, alpha, beta)
    return f"{ta * 1e3:.1f} ms, {100 * tc / (tc + ta):.0f}%"


def strong(n, batch, tc, f, p, alpha, beta):
    """The speed-up of p ranks sharing the reference batch."""
    if p > batch:
        return "-"
    return f"{tc / (f * tc + (1 - f) * tc / p + allreduce(n, p, alpha, beta)):.1f}"


def table(title, cell):
    """Prints, for each link, a table of the configurations by number of ranks:
    title above it (a format string of the link's name, alpha in us and beta in
    GB/s), and cell(parameters, batch, compute per step, fixed part, ranks,
    alpha, beta) in it."""
    for lname, alpha, beta in LINKS:
        print()
        print(title.format(link=lname, alpha_us=alpha * 1e6, beta_gbs=beta / 1e9))
        print()
        print("| configuration | " + " | ".join(f"p = {p}" for p in RANKS) + " |")
        print("|---|" + "---:|" * len(RANKS))
        for name, n, macs, batch, t1, f in CONFIGS:
            tc = step(macs, t1)
            print(f"| {name} | " + " | ".join(cell(n, batch, tc, f, p, alpha, beta) for p in RANKS) + " |")


if __name__ == "__main__":
    main()

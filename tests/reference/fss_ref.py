"""DPF, DCF and one-bit DCF written plainly from docs/kernels.md sections 2-4.

One key at a time, Python ints. Blocks are ints in [0, 2^128). A key is a small dataclass;
keyformat_ref turns lists of keys into the key-batch bytes of section 5.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .aes_ref import MASK128, H, hi64, lo64, master_key, root_seeds

NOT3 = MASK128 & ~3


# ----------------------------------------------------------------------------- helpers
def mask(m: int) -> int:
    return (1 << m) - 1


def mod_m(v: int, m: int) -> int:
    return v & mask(m)


def in_bit(x: int, i: int, n: int) -> int:
    """x_i, i = 1..n, counted from the most significant end."""
    return (x >> (n - i)) & 1


def child(s: int, d: int) -> tuple[int, int]:
    blk = H(s, d)
    return blk & NOT3, blk & 1


def values(s: int) -> tuple[int, int]:
    blk = H(s, 2)
    return lo64(blk), hi64(blk)


def slot_width(m: int) -> int:
    """Smallest power of two >= m."""
    w = 1
    while w < m:
        w *= 2
    return w


def dpf_shape(n: int, m: int) -> tuple[int, int, int]:
    """(w, nu, L) of section 2."""
    w = slot_width(m)
    log_slots = (128 // w).bit_length() - 1
    nu = min(n, log_slots)
    return w, nu, n - nu


def get_slot(blk: int, j: int, w: int, m: int) -> int:
    """slot(blk, j) = mod_m(slot j of blk)."""
    return mod_m(blk >> (j * w), m)


def value_bytes(m: int) -> int:
    for vb in (1, 2, 4, 8):
        if m <= 8 * vb:
            return vb
    raise ValueError(m)


# ----------------------------------------------------------------------------- keys
@dataclass
class TreeKey:
    """A DPF key, or a one-bit DCF key (scheme 'dcf', out_bits 1): root, CW_1..CW_L, FCW block."""
    scheme: str
    party: int
    bits: int
    out_bits: int
    root: int
    cw: list = field(default_factory=list)
    fcw: int = 0


@dataclass
class DCFKey:
    """A DCF key with out_bits >= 2: root, CW_1..CW_n, VCW_1..VCW_n, FCW (value < 2^m)."""
    party: int
    bits: int
    out_bits: int
    root: int
    cw: list = field(default_factory=list)
    vcw: list = field(default_factory=list)
    fcw: int = 0
    scheme: str = "dcf"


def _check(n: int, m: int, alpha: int):
    if not 1 <= n <= 64:
        raise ValueError("bits")
    if not 1 <= m <= 64:
        raise ValueError("out_bits")
    if not 0 <= alpha < (1 << n):
        raise ValueError("alpha")


# ----------------------------------------------------------------------------- DPF tree
def _tree_gen(alpha: int, n: int, L: int, s0: int, s1: int):
    """The DPF Gen tree loop over the top L levels of alpha. Returns (cws, s0, t0, s1, t1)."""
    s = [s0, s1]
    t = [0, 1]
    cws = []
    for i in range(1, L + 1):
        a = in_bit(alpha, i, n)
        ch = [[child(s[b], 0), child(s[b], 1)] for b in (0, 1)]  # ch[b][d] = (s, t)
        sCW = ch[0][1 - a][0] ^ ch[1][1 - a][0]
        tCW = [ch[0][0][1] ^ ch[1][0][1] ^ a ^ 1, ch[0][1][1] ^ ch[1][1][1] ^ a]
        cws.append(sCW | tCW[0] | (tCW[1] << 1))
        for b in (0, 1):
            sb, tb = ch[b][a]
            s_new = sb ^ (sCW if t[b] else 0)
            t_new = tb ^ (t[b] & tCW[a])
            s[b], t[b] = s_new, t_new
    return cws, s[0], t[0], s[1], t[1]


def _tree_step(s: int, t: int, cw: int, d: int) -> tuple[int, int]:
    blk = H(s, d)
    s2, t2 = blk & NOT3, blk & 1
    if t:
        s2 ^= cw & NOT3
        t2 ^= (cw >> d) & 1
    return s2, t2


def dpf_gen(alpha: int, beta: int, bits: int, out_bits: int, s0: int, s1: int):
    """DPF Gen with given root seeds (low 2 bits zero). Returns (key0, key1)."""
    n, m = bits, out_bits
    _check(n, m, alpha)
    beta = mod_m(beta, m)
    w, nu, L = dpf_shape(n, m)
    cws, f0, _t0, f1, t1 = _tree_gen(alpha, n, L, s0, s1)
    c0, c1 = H(f0, 2), H(f1, 2)
    a_lo = alpha & mask(nu)
    fcw = 0
    for j in range(128 // w):
        v = (beta if j == a_lo else 0) - get_slot(c0, j, w, m) + get_slot(c1, j, w, m)
        if t1:
            v = -v
        fcw |= mod_m(v, m) << (j * w)
    return (TreeKey("dpf", 0, n, m, s0, list(cws), fcw),
            TreeKey("dpf", 1, n, m, s1, list(cws), fcw))


def dpf_eval(b: int, key: TreeKey, x: int) -> int:
    n, m = key.bits, key.out_bits
    w, nu, L = dpf_shape(n, m)
    s, t = key.root, b
    for i in range(1, L + 1):
        s, t = _tree_step(s, t, key.cw[i - 1], in_bit(x, i, n))
    c = H(s, 2)
    x_lo = x & mask(nu)
    y = get_slot(c, x_lo, w, m) + (get_slot(key.fcw, x_lo, w, m) if t else 0)
    return mod_m(y if b == 0 else -y, m)


def dpf_eval_all(b: int, key: TreeKey) -> list:
    return [dpf_eval(b, key, x) for x in range(1 << key.bits)]


# ----------------------------------------------------------------------------- DCF (m >= 2)
def _dcf_gen_multi(alpha: int, beta: int, n: int, m: int, s0: int, s1: int):
    beta = mod_m(beta, m)
    s = [s0, s1]
    t = [0, 1]
    Va = 0
    cws, vcws = [], []
    for i in range(1, n + 1):
        a = in_bit(alpha, i, n)
        keep, lose = a, 1 - a
        sg = -1 if t[1] else 1
        ch = [[child(s[b], 0), child(s[b], 1)] for b in (0, 1)]
        vv = [values(s[b]) for b in (0, 1)]  # vv[b][d]
        sCW = ch[0][lose][0] ^ ch[1][lose][0]
        VCW = sg * (mod_m(vv[1][lose], m) - mod_m(vv[0][lose], m) - Va)
        if lose == 0:
            VCW += sg * beta
        Va = Va - mod_m(vv[1][keep], m) + mod_m(vv[0][keep], m) + sg * VCW
        tCW = [ch[0][0][1] ^ ch[1][0][1] ^ a ^ 1, ch[0][1][1] ^ ch[1][1][1] ^ a]
        cws.append(sCW | tCW[0] | (tCW[1] << 1))
        vcws.append(mod_m(VCW, m))
        for b in (0, 1):
            sb, tb = ch[b][keep]
            s_new = sb ^ (sCW if t[b] else 0)
            t_new = tb ^ (t[b] & tCW[keep])
            s[b], t[b] = s_new, t_new
    sg = -1 if t[1] else 1
    fcw = mod_m(sg * (mod_m(lo64(H(s[1], 2)), m) - mod_m(lo64(H(s[0], 2)), m) - Va), m)
    return (DCFKey(0, n, m, s0, list(cws), list(vcws), fcw),
            DCFKey(1, n, m, s1, list(cws), list(vcws), fcw))


def _dcf_eval_multi(b: int, key: DCFKey, x: int) -> int:
    n, m = key.bits, key.out_bits
    s, t, V = key.root, b, 0
    for i in range(1, n + 1):
        d = in_bit(x, i, n)
        blk = H(s, d)
        s2, t2 = blk & NOT3, blk & 1
        v = values(s)[d]
        cw = key.cw[i - 1]
        if t:
            s2 ^= cw & NOT3
            t2 ^= (cw >> d) & 1
        V += mod_m(v, m) + (key.vcw[i - 1] if t else 0)
        s, t = s2, t2
    V += mod_m(lo64(H(s, 2)), m) + (key.fcw if t else 0)
    return mod_m(V if b == 0 else -V, m)


# ----------------------------------------------------------------------------- DCF (m == 1)
def _dcf_gen_onebit(alpha: int, beta: int, n: int, s0: int, s1: int):
    a2 = alpha if (beta & 1) else 0
    w, nu, L = dpf_shape(n, 1)
    assert w == 1
    cws, f0, _t0, f1, _t1 = _tree_gen(a2, n, L, s0, s1)
    c0, c1 = H(f0, 2), H(f1, 2)
    a_lo = a2 & mask(nu)
    fcw = 0
    for j in range(128):
        bit = (1 if j < a_lo else 0) ^ ((c0 >> j) & 1) ^ ((c1 >> j) & 1)
        fcw |= bit << j
    return (TreeKey("dcf", 0, n, 1, s0, list(cws), fcw),
            TreeKey("dcf", 1, n, 1, s1, list(cws), fcw))


def _dcf_eval_onebit(b: int, key: TreeKey, x: int) -> int:
    n = key.bits
    _w, nu, L = dpf_shape(n, 1)
    s, t, acc = key.root, b, 0
    for i in range(1, L + 1):
        cw = key.cw[i - 1]
        kids = [_tree_step(s, t, cw, d) for d in (0, 1)]
        xi = in_bit(x, i, n)
        if xi == 0:
            acc ^= kids[1][1]
        s, t = kids[xi]
    x_lo = x & mask(nu)
    acc ^= ((H(s, 2) >> x_lo) & 1) ^ (t & ((key.fcw >> x_lo) & 1))
    return acc


# ----------------------------------------------------------------------------- DCF API
def dcf_gen(alpha: int, beta: int, bits: int, out_bits: int, s0: int, s1: int):
    _check(bits, out_bits, alpha)
    if out_bits == 1:
        return _dcf_gen_onebit(alpha, beta, bits, s0, s1)
    return _dcf_gen_multi(alpha, beta, bits, out_bits, s0, s1)


def dcf_eval(b: int, key, x: int) -> int:
    if key.out_bits == 1:
        return _dcf_eval_onebit(b, key, x)
    return _dcf_eval_multi(b, key, x)


# ----------------------------------------------------------------------------- batches
def _as_list(v, N):
    if isinstance(v, int):
        return [v] * N
    v = [int(u) for u in v]
    assert len(v) == N
    return v


def gen_batch(scheme: str, alphas, betas, bits: int, out_bits: int, seed: int, first: int = 0):
    """Gen for a batch with the caller's seed: key k uses AES-CTR blocks 2k, 2k+1. With `first`,
    the keys are numbers first, first+1, ... of a larger batch (alphas/betas are theirs).
    Returns (keys of party 0, keys of party 1) as lists."""
    alphas = [int(a) for a in alphas]
    betas = _as_list(betas, len(alphas))
    R = master_key(seed)
    gen = dpf_gen if scheme == "dpf" else dcf_gen
    k0s, k1s = [], []
    for k, (a, be) in enumerate(zip(alphas, betas)):
        s0, s1 = root_seeds(R, first + k)
        k0, k1 = gen(a, be, bits, out_bits, s0, s1)
        k0s.append(k0)
        k1s.append(k1)
    return k0s, k1s


def eval_batch(party: int, keys, xs) -> list:
    ev = dpf_eval if keys[0].scheme == "dpf" else dcf_eval
    return [ev(party, k, int(x)) for k, x in zip(keys, xs)]

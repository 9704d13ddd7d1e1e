"""Independent float64 NumPy references, written from the formulas (loops
where the definition is a loop), sharing no code with the package."""

from __future__ import annotations

import math

import numpy as np


def _f(x):
    return np.asarray(x, dtype=np.float64)


def log_softmax(x, axis=-1):
    x = _f(x)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def log_sigmoid(x):
    x = _f(x)
    return -np.logaddexp(0.0, -x)


def xlogy(x, y):
    x, y = _f(x), _f(y)
    out = np.zeros_like(x * y)
    nz = x != 0
    out[nz] = (x * np.log(np.where(nz, y, 1.0)))[nz]
    return out


# regression -----------------------------------------------------------------
def mae(t, p):
    return np.abs(_f(p) - _f(t)).mean(-1)


def mse(t, p):
    return ((_f(p) - _f(t)) ** 2).mean(-1)


def rmse_per_sample(t, p):
    return np.sqrt(mse(t, p))


def huber(t, p, delta=1.0):
    r = np.abs(_f(p) - _f(t))
    return np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean(-1)


def squared_log_error(t, p, offset=1.0):
    return ((np.log(_f(p) + offset) - np.log(_f(t) + offset)) ** 2).mean(-1)


def pinball(t, p, tau=0.5):
    r = _f(t) - _f(p)
    return np.where(r >= 0, tau * r, (tau - 1.0) * r).mean(-1)


def rho(x, alpha, c=1.0):
    """Barron's rho in float64 with the closed-form limits."""
    z = (_f(x) / c) ** 2
    if alpha == 2:
        return 0.5 * z
    if alpha == 0:
        return np.log(0.5 * z + 1.0)
    if alpha == -math.inf:
        return 1.0 - np.exp(-0.5 * z)
    if alpha == math.inf:
        return np.exp(0.5 * z) - 1.0
    b = abs(alpha - 2.0)
    return b / alpha * ((z / b + 1.0) ** (alpha / 2.0) - 1.0)


def general_robust(t, p, alpha=1.0, scale=1.0):
    return rho(_f(p) - _f(t), alpha, scale).mean(-1)


# probabilistic ----------------------------------------------------------------
def gaussian_nll(t, p):
    t, p = _f(t), _f(p)
    d = t.shape[-1]
    mean, log_var = p[..., :d], p[..., d:]
    var = np.exp(log_var)
    return (0.5 * np.log(2 * np.pi * var) + (t - mean) ** 2 / (2 * var)).sum(-1)


def laplace_nll(t, p):
    t, p = _f(t), _f(p)
    d = t.shape[-1]
    mean, b = p[..., :d], np.exp(p[..., d:])
    return (np.log(2 * b) + np.abs(t - mean) / b).sum(-1)


def laplace_mixture_nll(t, p):
    t, p = _f(t), _f(p)
    k = p.shape[-1] // 3
    out = np.empty(p.shape[:-1])
    for i in np.ndindex(*p.shape[:-1]):
        logits, means, scales = p[i][:k], p[i][k : 2 * k], np.exp(p[i][2 * k :])
        w = np.exp(logits - logits.max())
        w /= w.sum()
        density = sum(w[j] * np.exp(-abs(t[i][0] - means[j]) / scales[j]) / (2 * scales[j]) for j in range(k))
        out[i] = -np.log(density)
    return out


def gaussian_kl_from_pred(t, p):
    p = _f(p)
    d = p.shape[-1] // 2
    mean, log_var = p[..., :d], p[..., d:]
    return 0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var).sum(-1)


# classification -----------------------------------------------------------------
def _probs(p, from_logits, axis=-1):
    if from_logits:
        return log_softmax(p, axis)
    p = _f(p)
    p = p / p.sum(axis, keepdims=True)
    return np.log(np.clip(p, 1e-7, 1 - 1e-7))


def _binary_logs(p, from_logits):
    if from_logits:
        return log_sigmoid(p), log_sigmoid(-_f(p))
    p = np.clip(_f(p), 1e-7, 1 - 1e-7)
    return np.log(p), np.log(1 - p)


def bce(t, p, from_logits=False, label_smoothing=0.0):
    t = _f(t) * (1 - label_smoothing) + 0.5 * label_smoothing
    lp, lq = _binary_logs(p, from_logits)
    return -(t * lp + (1 - t) * lq).mean(-1)


def cce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = _f(t)
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[axis]
    return -(t * _probs(p, from_logits, axis)).sum(axis)


def scce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    logp = _probs(p, from_logits, axis)
    labels = np.asarray(t).reshape(logp.shape[0]).astype(int)
    k = logp.shape[-1]
    out = np.empty(len(labels))
    for i, y in enumerate(labels):
        target = np.full(k, label_smoothing / k)
        target[y] += 1 - label_smoothing
        out[i] = -(target * logp[i]).sum()
    return out


def binary_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False):
    t = _f(t)
    lp, lq = _binary_logs(p, from_logits)
    prob = np.exp(lp)
    p_t = t * prob + (1 - t) * (1 - prob)
    a_t = t * alpha + (1 - t) * (1 - alpha)
    bce_ = -(t * lp + (1 - t) * lq)
    return (a_t * (1 - p_t) ** gamma * bce_).mean(-1)


def categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, axis=-1):
    logp = _probs(p, from_logits, axis)
    return -(np.asarray(alpha) * _f(t) * (1 - np.exp(logp)) ** gamma * logp).sum(axis)


# information ---------------------------------------------------------------------
def kl(t, p, from_logits=False, axis=-1):
    t = _f(t)
    logq = log_softmax(p, axis) if from_logits else None
    out = np.zeros(t.shape[:-1])
    for i in np.ndindex(*t.shape[:-1]):
        for k in range(t.shape[-1]):
            pk = t[i][k]
            if pk > 0:
                lq = logq[i][k] if from_logits else math.log(_f(p)[i][k])
                out[i] += pk * (math.log(pk) - lq)
    return out


def entropy(p, base=math.e):
    return -xlogy(p, p).sum(-1) / math.log(base)


def cross_entropy(t, p, base=math.e):
    return -xlogy(t, p).sum(-1) / math.log(base)


# margin ----------------------------------------------------------------------------
def weston_watkins(t, s, margin=1.0):
    s = _f(s)
    labels = np.asarray(t).reshape(len(s)).astype(int)
    return np.array(
        [sum(max(0.0, s[i, j] - s[i, y] + margin) for j in range(s.shape[1]) if j != y) for i, y in enumerate(labels)]
    )


def crammer_singer(t, s, margin=1.0):
    s = _f(s)
    labels = np.asarray(t).reshape(len(s)).astype(int)
    return np.array(
        [max(0.0, margin - (s[i, y] - max(s[i, j] for j in range(s.shape[1]) if j != y))) for i, y in enumerate(labels)]
    )


def multilabel_margin(t, s, margin=1.0):
    t, s = _f(t), _f(s)
    out = np.zeros(len(s))
    for i in range(len(s)):
        pos = [s[i, j] for j in range(s.shape[1]) if t[i, j] == 1]
        neg = [s[i, j] for j in range(s.shape[1]) if t[i, j] == 0]
        if pos and neg:
            out[i] = max(0.0, margin - (max(pos) - max(neg)))
    return out


# games -------------------------------------------------------------------------------
def cooperative_terms(t, p, classification="crossentropy", reconstruction="mse", from_logits=False):
    labels, images = t
    outputs, recon = p
    outputs = _f(outputs)
    k = outputs.shape[-1]
    onehot = np.eye(k)[np.asarray(labels).reshape(-1).astype(int)]
    if classification == "crossentropy":
        lc = cce(onehot, outputs, from_logits=from_logits)
    else:
        probs = np.exp(log_softmax(outputs)) if from_logits else outputs
        diff = probs - onehot
        lc = (diff**2 if classification == "mse" else np.abs(diff)).mean(-1)
    diff = _f(recon) - _f(images)
    diff = diff**2 if reconstruction == "mse" else np.abs(diff)
    lg = diff.reshape(len(diff), -1).mean(-1)
    return lc, lg


def discriminator(real, fake, from_logits=True):
    lr, _ = _binary_logs(real, from_logits)
    _, lq = _binary_logs(fake, from_logits)
    return -(lr + lq).mean(-1)


def matching_discriminator(real, stacked, from_logits=True, mismatch_weight=0.5):
    stacked = _f(stacked)
    lr, _ = _binary_logs(real, from_logits)
    _, lf = _binary_logs(stacked[:, 0], from_logits)
    _, lm = _binary_logs(stacked[:, 1], from_logits)
    return -(lr + (1 - mismatch_weight) * lf + mismatch_weight * lm).mean(-1)


def generator(t, fake, from_logits=True, non_saturating=True):
    lp, lq = _binary_logs(fake, from_logits)
    return (-lp if non_saturating else lq).mean(-1)


# reductions (Keras semantics) ---------------------------------------------------------
def reduce(values, weights=None, reduction="sum_over_batch_size"):
    values = _f(values)
    w = np.ones_like(values) if weights is None else _f(weights).reshape(values.shape)
    weighted = values * w
    if reduction in (None, "none"):
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight" and weights is not None:
        return weighted.sum() / w.sum()
    return weighted.sum() / values.size


# metric learning (brute force over every pair / triplet) ----------------------------
def distance(a, b, squared=True, kind="euclidean"):
    a, b = _f(a), _f(b)
    if kind == "cosine":
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return 1.0 - (a @ b) / (max(na, 1e-12) * max(nb, 1e-12))
    d2 = float(((a - b) ** 2).sum())
    return d2 if squared else math.sqrt(d2)


def triplet_margin_stacked(t, p, margin=1.0, squared=True, distance_kind="euclidean"):
    p = _f(p)
    return np.array([max(distance(x[0], x[1], squared, distance_kind) - distance(x[0], x[2], squared, distance_kind)
                         + margin, 0.0) for x in p])


def triplet(labels, emb, margin=1.0, mining="batch_all", squared=True, distance_kind="euclidean"):
    """Per-anchor values: each anchor's terms times B / (number averaged)."""
    labels = np.asarray(labels).reshape(-1)
    emb = _f(emb)
    b = len(labels)
    d = np.array([[0.0 if i == j else distance(emb[i], emb[j], squared, distance_kind) for j in range(b)]
                  for i in range(b)])
    pos = [[j for j in range(b) if j != a and labels[j] == labels[a]] for a in range(b)]
    neg = [[n for n in range(b) if labels[n] != labels[a]] for a in range(b)]
    sums, count = np.zeros(b), 0
    for a in range(b):
        if mining == "batch_all":
            for p in pos[a]:
                for n in neg[a]:
                    loss = max(d[a, p] - d[a, n] + margin, 0.0)
                    if loss > 0:
                        sums[a] += loss
                        count += 1
        elif mining == "batch_hard":
            if pos[a] and neg[a]:
                sums[a] = max(max(d[a, p] for p in pos[a]) - min(d[a, n] for n in neg[a]) + margin, 0.0)
                count += 1
        else:  # semi_hard
            if not neg[a]:
                continue
            for p in pos[a]:
                farther = [d[a, n] for n in neg[a] if d[a, n] > d[a, p]]
                chosen = min(farther) if farther else min(d[a, n] for n in neg[a])
                sums[a] += max(d[a, p] - chosen + margin, 0.0)
                count += 1
    return sums * b / max(count, 1)


def active_fraction(labels, emb, margin=1.0, squared=True):
    labels = np.asarray(labels).reshape(-1)
    b = len(labels)
    active = valid = 0
    for a in range(b):
        for p in range(b):
            for n in range(b):
                if p != a and labels[p] == labels[a] and labels[n] != labels[a]:
                    valid += 1
                    active += distance(emb[a], emb[p], squared) - distance(emb[a], emb[n], squared) + margin > 0
    return active / valid if valid else 0.0


def contrastive(t, d, margin=1.0):
    t, d = _f(t).reshape(len(t), -1), _f(d).reshape(len(d), -1)
    return (t * d**2 + (1 - t) * np.maximum(margin - d, 0.0) ** 2).mean(-1)


def contrastive_embedding(t, p, margin=1.0, distance_kind="euclidean"):
    p = _f(p)
    d = np.array([distance(x[0], x[1], False, distance_kind) for x in p])
    return contrastive(t, d, margin)


def cosine_similarity_loss(t, p, axis=-1):
    return np.array([distance(a, b, kind="cosine") for a, b in zip(_f(t), _f(p))])


def cosine_embedding(t, p, margin=0.0):
    out = []
    for y, (a, b) in zip(np.asarray(t).reshape(-1), _f(p)):
        cos = 1.0 - distance(a, b, kind="cosine")
        out.append(1.0 - cos if y > 0 else max(0.0, cos - margin))
    return np.array(out)


def nt_xent(t, p, temperature=0.5):
    z = _f(p)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    n2 = len(z)
    out = np.empty(n2)
    for i in range(n2):
        j = (i + n2 // 2) % n2
        denominator = sum(math.exp(z[i] @ z[k] / temperature) for k in range(n2) if k != i)
        out[i] = -math.log(math.exp(z[i] @ z[j] / temperature) / denominator)
    return out


# the O(B^3) semi-hard triplet formulation (the loss benchmark's baseline) ------------------
def cubic_semi_hard(labels, embeddings, margin=1.0):
    """Semi-hard triplet loss in the formulation of tensorflow-addons'
    `triplet_semihard_loss` (Euclidean distances), reimplemented for the
    comparison: the distance matrix is tiled to B^2 x B so that every
    (anchor, positive, negative) is compared at once. O(B^3) memory."""
    import tensorflow as tf

    from keraslosses.metric import pairwise_distances

    d = pairwise_distances(embeddings, squared=False)
    b = tf.shape(labels)[0]
    labels = tf.reshape(labels, [-1, 1])
    adjacency = tf.equal(labels, tf.transpose(labels))
    adjacency_not = tf.logical_not(adjacency)
    d_tile = tf.tile(d, [b, 1])  # row a * B + p holds d[a', :] for every anchor-positive pair
    # For pair (a, p): negatives n of a with d[a, n] > d[a, p].
    farther = tf.logical_and(tf.tile(adjacency_not, [b, 1]), d_tile > tf.reshape(tf.transpose(d), [-1, 1]))
    farther_f = tf.cast(farther, d.dtype)
    row_max = tf.reduce_max(d_tile, axis=1, keepdims=True)
    outside = tf.reduce_min((d_tile - row_max) * farther_f, axis=1, keepdims=True) + row_max
    outside = tf.transpose(tf.reshape(outside, [b, b]))
    has_outside = tf.transpose(tf.reshape(tf.reduce_any(farther, axis=1), [b, b]))
    neg_mask = tf.cast(adjacency_not, d.dtype)
    row_min = tf.reduce_min(d, axis=1, keepdims=True)
    inside = tf.reduce_max((d - row_min) * neg_mask, axis=1, keepdims=True) + row_min
    inside = tf.tile(inside, [1, b])
    semi_hard = tf.where(has_outside, outside, inside)
    loss_mat = margin + d - semi_hard
    positives = tf.cast(adjacency, d.dtype) - tf.linalg.diag(tf.ones([b], d.dtype))
    num_positives = tf.reduce_sum(positives)
    return tf.math.divide_no_nan(tf.reduce_sum(tf.maximum(loss_mat * positives, 0.0)), num_positives)

# gen_stats.py: writes stats_golden.json, numpy/scipy references for Tiny.Rl.Studies (rliable's aggregate metrics).
#
#   /usr/bin/python3 tests/Tiny.Tests/data/gen_stats.py     (Debian: python3-numpy, python3-scipy; about 10 s)
#
# Deterministic: re-running gives a byte-identical file. Scores are grouped by task: case["x"][t] is the list of X's
# runs on task t (run counts may differ between tasks). The point values are the definitions of rliable's metrics.py
# evaluated with numpy/scipy on the pooled or per-task scores:
#   iqm            scipy.stats.trim_mean(all runs of all tasks, 0.25)
#   mean / median  numpy mean / median of the per-task means
#   optimality_gap 1 - mean(minimum(all runs, 1))
#   poi            mean over tasks of scipy.stats.mannwhitneyu(x_t, y_t).statistic / (n_t * m_t)
#   profile        mean(all runs > tau) for each tau
# The intervals are Monte Carlo references: scipy.stats.bootstrap (percentile method) on a single task, where the
# stratified bootstrap is the plain one, and a numpy stratified bootstrap (runs resampled within each task) on many
# tasks; both with 20,000 resamples.
import json
import os
import warnings

import numpy as np
import scipy
import scipy.stats

REPS = 20000


def per_task(scores):
    return [np.asarray(t, dtype=np.float64) for t in scores]


def iqm(scores):
    return float(scipy.stats.trim_mean(np.concatenate(per_task(scores)), 0.25))


def mean(scores):
    return float(np.mean([np.mean(t) for t in per_task(scores)]))


def median(scores):
    return float(np.median([np.mean(t) for t in per_task(scores)]))


def optimality_gap(scores, gamma=1.0):
    return float(gamma - np.mean(np.minimum(np.concatenate(per_task(scores)), gamma)))


def poi(x, y):
    p = []
    for xt, yt in zip(per_task(x), per_task(y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # all-tied tasks: the p-value is nan, the statistic is fine
            u = scipy.stats.mannwhitneyu(xt, yt, alternative="greater").statistic
        pt = u / (len(xt) * len(yt))
        if np.array_equal(xt, yt):          # rliable's special case is the formula's own value
            assert pt == 0.5, (xt, yt, pt)
        p.append(pt)
    return float(np.mean(p))


def profile(scores, taus):
    pooled = np.concatenate(per_task(scores))
    return [float(np.mean(pooled > t)) for t in taus]


def rounded(a, d=4):
    return [[float(round(v, d)) for v in t] for t in a]


def cases():
    rs = np.random.RandomState(0)
    out = []

    out.append(dict(
        name="ties",
        x=[[1, 2, 2, 3, 3], [0.5, 0.5, 0.5, 0.5, 0.5], [4, 4, 1, 1, 2]],
        y=[[2, 2, 2, 1, 0], [0.5, 0.5, 0.5, 0.5, 0.5], [4, 4, 1, 1, 2]]))

    out.append(dict(
        name="unequal_runs",
        x=rounded([rs.normal(0.6, 0.3, 3), rs.normal(0.9, 0.2, 5), list(rs.normal(0.4, 0.5, 7)) + [0.25]], 3),
        y=rounded([list(rs.normal(0.5, 0.3, 3)) + [0.25], rs.normal(0.8, 0.2, 5), rs.normal(0.5, 0.5, 2)], 3)))

    out.append(dict(
        name="single_task",
        x=rounded([rs.gamma(2.0, 0.4, 7)]),
        y=rounded([rs.gamma(2.0, 0.35, 6)])))

    out.append(dict(
        name="one_run_per_task",
        x=[[0.3], [1.7], [0.9]],
        y=[[0.3], [0.2], [1.1]]))

    out.append(dict(
        name="even_tasks_large_scores",   # raw returns: the median of 4 task means averages the middle two
        x=rounded([rs.uniform(0, 500, 4) for _ in range(4)], 2),
        y=rounded([rs.uniform(0, 450, 4) for _ in range(4)], 2)))

    x_matrix = rs.gamma(2.0, 0.5, size=(10, 26))           # rliable's layout: [runs x tasks]
    y_matrix = rs.gamma(2.0, 0.45, size=(5, 26))
    out.append(dict(
        name="many_tasks",
        x=[[float(v) for v in x_matrix[:, t]] for t in range(26)],
        y=[[float(v) for v in y_matrix[:, t]] for t in range(26)],
        x_matrix=[[float(v) for v in row] for row in x_matrix]))

    for c in out:
        x, y = c["x"], c["y"] = [[float(v) for v in t] for t in c["x"]], [[float(v) for v in t] for t in c["y"]]
        pooled = np.concatenate(per_task(x))
        taus = sorted(set([float(v) for v in np.linspace(pooled.min() - 0.1, pooled.max() + 0.1, 11)] + [float(v) for v in pooled[:3]]))
        c["expected"] = dict(
            x=dict(iqm=iqm(x), mean=mean(x), median=median(x), optimality_gap=optimality_gap(x)),
            y=dict(iqm=iqm(y), mean=mean(y), median=median(y), optimality_gap=optimality_gap(y)),
            poi_xy=poi(x, y), poi_yx=poi(y, x),
            taus=taus, profile_x=profile(x, taus))
    return out


def percentile_cases():
    rs = np.random.RandomState(7)
    v = [float(round(a, 3)) for a in rs.normal(0, 1, 10)] + [0.5, 0.5]
    qs = [0.0, 0.025, 0.05, 0.25, 1.0 / 3.0, 0.5, 0.75, 0.95, 0.975, 1.0]
    return dict(values=v, p=qs, expected=[float(np.percentile(np.sort(v), 100 * q)) for q in qs],
                single=[[3.5], [float(np.percentile([3.5], 2.5))]])


def scipy_bootstrap_cases():
    """Single task: the stratified bootstrap is scipy's plain one."""
    x = np.random.RandomState(1).gamma(2.0, 0.4, 30)
    y = np.random.RandomState(2).gamma(2.0, 0.35, 25)
    tau = 0.8

    def stat_iqm(a, axis=-1):
        return scipy.stats.trim_mean(a, 0.25, axis=axis)

    def stat_og(a, axis=-1):
        return 1.0 - np.mean(np.minimum(a, 1.0), axis=axis)

    def stat_profile(a, axis=-1):
        return np.mean(a > tau, axis=axis)

    def stat_poi(a, b, axis=-1):
        a = np.moveaxis(a, axis, -1)[..., :, None]
        b = np.moveaxis(b, axis, -1)[..., None, :]
        u = np.sum(a > b, axis=(-2, -1)) + 0.5 * np.sum(a == b, axis=(-2, -1))
        return u / (a.shape[-2] * b.shape[-1])

    out = []
    for name, stat, data, conf in [
        ("iqm", stat_iqm, (x,), 0.95),
        ("iqm", stat_iqm, (x,), 0.9),
        ("mean", lambda a, axis=-1: np.mean(a, axis=axis), (x,), 0.95),
        ("optimality_gap", stat_og, (x,), 0.95),
        ("profile", stat_profile, (x,), 0.95),
        ("poi", stat_poi, (x, y), 0.95),
    ]:
        r = scipy.stats.bootstrap(data, stat, n_resamples=REPS, confidence_level=conf, method="percentile",
                                  vectorized=True, paired=False, random_state=np.random.default_rng(12345))
        out.append(dict(statistic=name, confidence=conf, tau=tau, value=float(stat(*data)),
                        ci=[float(r.confidence_interval.low), float(r.confidence_interval.high)]))
    return dict(x=[float(v) for v in x], y=[float(v) for v in y], reps=REPS, cases=out)


def stratified_cases(many):
    """numpy stratified bootstrap (runs resampled within each task) of many_tasks: IQM, mean and P(X > Y)."""
    rng = np.random.default_rng(2021)
    x = np.array(many["x"]).T    # [runs x tasks]
    y = np.array(many["y"]).T
    nx, ny, tasks = x.shape[0], y.shape[0], x.shape[1]
    cols = np.arange(tasks)[None, None, :]
    xb = x[rng.integers(0, nx, size=(REPS, nx, tasks)), cols]
    yb = y[rng.integers(0, ny, size=(REPS, ny, tasks)), cols]
    iqm_b = scipy.stats.trim_mean(xb.reshape(REPS, -1), 0.25, axis=1)
    mean_b = np.mean(np.mean(xb, axis=1), axis=1)
    u = np.sum(xb[:, :, None, :] > yb[:, None, :, :], axis=(1, 2)) + 0.5 * np.sum(xb[:, :, None, :] == yb[:, None, :, :], axis=(1, 2))
    poi_b = np.mean(u / (nx * ny), axis=1)

    def ci(b):
        return [float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))]

    return dict(reps=REPS, confidence=0.95, iqm=ci(iqm_b), mean=ci(mean_b), poi=ci(poi_b))


def main():
    cs = cases()
    doc = dict(
        generator="gen_stats.py",
        numpy=np.__version__, scipy=scipy.__version__,
        cases=cs,
        percentile=percentile_cases(),
        linspace=dict(start=-0.3, stop=1.3, count=27, expected=[float(v) for v in np.linspace(-0.3, 1.3, 27)]),
        scipy_bootstrap=scipy_bootstrap_cases(),
        stratified=stratified_cases(next(c for c in cs if c["name"] == "many_tasks")))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats_golden.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()

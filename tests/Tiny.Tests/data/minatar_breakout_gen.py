"""Records MinAtar Breakout trajectories from the reference code for MinAtarTests.

Usage: python3 minatar_breakout_gen.py /path/to/MinAtar-checkout > minatar_breakout_trajectories.json

The checkout is kenjyoung/MinAtar (the folder holding the `minatar` package); nothing of it is vendored here.
Sticky actions are off (sticky_action_prob=0) and each episode's start (ball column and direction) is set by hand
after reset, so the episodes depend only on the actions. If numpy is missing, a tiny stand-in with just what
breakout.py and environment.py call (zeros, count_nonzero, RandomState, int/slice indexing) is installed; the
episodes do not use its random numbers.
"""
import copy
import itertools
import json
import random
import sys
import types


def install_numpy_standin():
    class Arr:
        def __init__(self, shape, fill=0):
            self.shape = tuple(shape)
            self.flat = [fill] * (1 if not shape else __import__("math").prod(shape))

        def _cells(self, key):
            key = key if isinstance(key, tuple) else (key,)
            key = key + (slice(None),) * (len(self.shape) - len(key))
            ranges, out_shape = [], []
            for k, n in zip(key, self.shape):
                if isinstance(k, slice):
                    r = range(*k.indices(n))
                    out_shape.append(len(r))
                else:
                    if not 0 <= k < n:
                        raise IndexError(k)
                    r = [k]
                ranges.append(r)
            strides = [1] * len(self.shape)
            for i in range(len(self.shape) - 2, -1, -1):
                strides[i] = strides[i + 1] * self.shape[i + 1]
            cells = [sum(i * s for i, s in zip(idx, strides)) for idx in itertools.product(*ranges)]
            return cells, out_shape

        def __getitem__(self, key):
            cells, out_shape = self._cells(key)
            if not out_shape:
                return self.flat[cells[0]]
            a = Arr(out_shape)
            a.flat = [self.flat[c] for c in cells]
            return a

        def __setitem__(self, key, value):
            cells, _ = self._cells(key)
            values = value.flat if isinstance(value, Arr) else [value] * len(cells)
            assert len(values) == len(cells)
            for c, v in zip(cells, values):
                self.flat[c] = v

    class RandomState:
        def __init__(self, seed=None):
            self.r = random.Random(seed)

        def randint(self, n):
            return self.r.randrange(n)

        def rand(self):
            return self.r.random()

    np = types.ModuleType("numpy")
    np.zeros = lambda shape, dtype=float: Arr(shape, False if dtype is bool else 0)
    np.count_nonzero = lambda a: sum(1 for v in a.flat if v)
    np.random = types.SimpleNamespace(RandomState=RandomState)
    sys.modules["numpy"] = np


def np_count(a):
    return sum(1 for y in range(10) for x in range(10) if a[y, x] == 1)


def obs_indices(state):
    """Indices of the ones of state() (H, W, C) in Tiny's channel-major layout (C, H, W)."""
    return sorted(c * 100 + y * 10 + x for y in range(10) for x in range(10) for c in range(4) if state[y, x, c])


def snapshot(env, reward, terminal):
    g = env.env
    return {
        "r": reward, "t": bool(terminal), "bx": g.ball_x, "by": g.ball_y, "dir": g.ball_dir, "pos": g.pos,
        "lx": g.last_x, "ly": g.last_y, "strike": bool(g.strike),
        "bricks": [sum(1 << x for x in range(10) if g.brick_map[y, x] == 1) for y in range(10)],
        "obs": obs_indices(env.state()),
    }


def main():
    sys.path.insert(0, sys.argv[1])
    try:
        import numpy  # noqa: F401
    except ImportError:
        install_numpy_standin()
    from minatar import Environment

    rng = random.Random(20190601)
    episodes = []
    # (name, start (ball_x, ball_dir), action set, policy, step cap)
    for name, start, action_set, policy, cap in [
        ("random_left", (0, 2), "minimal", "random", 400),
        ("random_right", (9, 3), "minimal", "random", 400),
        ("tracker_left", (0, 2), "minimal", "tracker", 1200),
        ("tracker_right", (9, 3), "minimal", "tracker", 200),
        ("full_set_random", (9, 3), "full", "random", 400),
    ]:
        env = Environment("breakout", sticky_action_prob=0.0)
        env.seed(0)
        env.reset()
        g = env.env
        g.ball_x, g.ball_dir = start
        g.last_x, g.last_y = g.ball_x, g.ball_y
        minimal = env.minimal_action_set()
        n_actions = len(minimal) if action_set == "minimal" else env.num_actions()
        actions, steps, after_terminal = [], [], 0
        start_snapshot = snapshot(env, 0, False)
        while len(actions) < cap and after_terminal < 2:
            if policy == "tracker" and (rng.random() > 0.1 or g.ball_y >= 5):
                # Head for the column where the ball reaches row 9: play a copy on with noops and no paddle.
                # (minimal set: 0 noop, 1 left, 2 right)
                ghost = copy.deepcopy(g)
                ghost.pos = -100
                while not ghost.terminal:
                    ghost.act(0)
                # Meet it with the paddle's corner (ball reverses) or with the ball right above (only dy flips),
                # chosen by the bricks left so the ball does not retrace one path forever.
                target = ghost.ball_x if np_count(g.brick_map) % 3 else ghost.last_x
                a = 0 if target == g.pos else (1 if target < g.pos else 2)
            else:
                a = rng.randrange(n_actions)
            full = minimal[a] if action_set == "minimal" else a
            reward, terminal = env.act(full)
            actions.append(a)
            steps.append(snapshot(env, reward, terminal))
            if terminal:
                after_terminal += 1
        episodes.append({"name": name, "action_set": action_set, "ball_x": start[0], "ball_dir": start[1],
                         "start": start_snapshot, "actions": actions, "steps": steps})
    json.dump({"source": "kenjyoung/MinAtar minatar/environments/breakout.py via minatar.Environment, sticky 0",
               "episodes": episodes}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()

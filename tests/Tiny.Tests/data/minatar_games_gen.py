"""Records seeded MinAtar episodes from the reference code for MinAtarGamesTests.

Usage: /usr/bin/python3 minatar_games_gen.py /path/to/MinAtar-checkout OUT_DIR

The checkout is kenjyoung/MinAtar (the folder holding the `minatar` package); nothing of it is vendored here. numpy
is required: the episodes are the reference's own random draws. Writes, into OUT_DIR:
  minatar_numpy_random.json       numpy RandomState(seed) draws (rand, randint) that Tiny's NumpyRandom must repeat
  minatar_<game>_episodes.json    for asterix, freeway, seaquest, space_invaders and breakout

Each run plays the reference's gym env as minatar/gym.py builds it (BaseEnv: Environment(game) with sticky actions
0.1 and difficulty ramping on; v1 = the game's minimal action set, v0 = the 6 actions): reset(seed) seeds a new
RandomState and resets the game, later episodes of a run reset without a seed (the stream continues, the sticky
previous action carries over). gymnasium itself is not needed: its reset/step are two lines, written out below.
Per step the trace holds the action (index into the run's action set), reward, terminal flag, the observation as
the sorted indices of its ones in Tiny's [C, 10, 10] layout (c*100 + y*10 + x for state()[y, x, c]) and "h", a few
hidden values of the game (timers, speeds, ramp index, the sticky previous action), named in the file's "hidden".
The policies (seeded random, and a short lookahead on deep copies of the game so episodes reach late-game states)
only choose actions; the trace is what the reference did with them.
"""
import copy
import json
import os
import random
import sys

import numpy as np


HIDDEN = {
    "asterix": ["player_x", "player_y", "spawn_speed", "spawn_timer", "move_speed", "move_timer", "ramp_timer", "ramp_index"],
    "freeway": ["pos", "move_timer", "terminate_timer"] + [f"car{i}_timer" for i in range(8)],
    "seaquest": ["oxygen", "diver_count", "sub_x", "sub_y", "sub_or", "e_spawn_speed", "e_spawn_timer", "d_spawn_timer",
                 "move_speed", "ramp_index", "shot_timer", "surface"],
    "space_invaders": ["pos", "alien_dir", "enemy_move_interval", "alien_move_timer", "alien_shot_timer", "ramp_index", "shot_timer"],
    "breakout": ["ball_x", "ball_y", "ball_dir", "pos", "last_x", "last_y", "strike"],
}


def hidden(game, g):
    if game == "freeway":
        return [g.pos, g.move_timer, g.terminate_timer] + [int(c[2]) for c in g.cars]
    return [int(getattr(g, k)) for k in HIDDEN[game]]


class GymEnv:
    """minatar/gym.py's BaseEnv without gymnasium: the same action set, reset and step."""

    def __init__(self, game, minimal, ramping=True):
        from minatar import Environment
        self.game_name = game
        self.game = Environment(game, sticky_action_prob=0.1, difficulty_ramping=ramping)
        self.action_set = self.game.minimal_action_set() if minimal else list(range(self.game.num_actions()))

    def reset(self, seed=None):
        if seed is not None:
            self.game.seed(seed)
        self.game.reset()
        return self.game.state()

    def step(self, a):
        reward, done = self.game.act(self.action_set[a])
        return self.game.state(), reward, done


def ones(state):
    h, w, c = state.shape
    return sorted(int(ci * 100 + y * 10 + x) for y, x, ci in zip(*np.nonzero(state)))


# ---------------------------------------------------------------- policies (they only pick actions)

def lookahead(env, value, depth, rng, epsilon):
    """The action whose continuation over `depth` steps (on deep copies) scores highest, counting that each later
    step repeats the previous action with probability 0.1 (sticky actions)."""
    n = len(env.action_set)
    if rng.random() < epsilon:
        return rng.randrange(n)

    def q(g, d):
        """Scores of each action from g (their own continuations sticky)."""
        out = []
        for a in range(n):
            c = copy.deepcopy(g)
            r, t = c.act(env.action_set[a])
            if t:
                out.append(-1000.0)
            elif d == 1:
                out.append(10 * r + value(c))
            else:
                later = q(c, d - 1)
                out.append(10 * r + max(0.9 * later[b] + 0.1 * later[a] for b in range(n)))
        return out

    scores = q(env.game.env, depth)
    return max(range(n), key=lambda a: scores[a] + rng.random() * 1e-3)


def asterix_value(g):
    golds = [e for e in g.entities if e is not None and e[3]]
    if not golds:
        return -0.1 * abs(g.player_y - 4.5)
    return -0.1 * min(abs(e[0] - g.player_x) + abs(e[1] - g.player_y) for e in golds)


def freeway_value(g):
    return -g.pos


def space_invaders_value(g):
    cols = [x for x in range(10) if g.alien_map[:, x].sum() > 0]
    d = min(abs(x - g.pos) for x in cols) if cols else 0
    # Step out of a falling bullet's column early, so a sticky step rarely decides.
    danger = g.e_bullet_map[3:, max(0, g.pos - 1):g.pos + 2].sum() + 2 * g.e_bullet_map[3:, g.pos].sum()
    return -0.1 * d - 2 * danger


def seaquest_value(g):
    # Surface when full of divers or short of oxygen (with a diver to spend, or after the 6-diver quirk), else chase
    # the nearest diver, else line up with an enemy to shoot it; never sit at the surface.
    need_air = g.oxygen < 40 + 4 * g.sub_y
    if (g.diver_count == 6 or need_air) and g.diver_count != 0:
        return -1.0 * g.sub_y
    targets = [(d[0], d[1]) for d in g.divers] if g.diver_count < 6 else []
    if not targets:
        targets = [(e[0] + (-3 if e[0] > g.sub_x else 3), e[1]) for e in g.e_fish + g.e_subs]
    if not targets:
        return -abs(g.sub_y - 4) * 0.5 - (5 if g.sub_y == 0 else 0)
    return -0.5 * min(abs(x - g.sub_x) + abs(y - g.sub_y) for x, y in targets) - (5 if g.sub_y == 0 else 0)


def breakout_value(g):
    # Where the ball will reach row 9: play a copy on with noops and the paddle out of the way.
    ghost = copy.deepcopy(g)
    ghost.pos = -100
    for _ in range(40):
        if ghost.terminal:
            break
        ghost.act(0)
    return -abs(g.pos - ghost.ball_x)


def random_policy(env, rng):
    return rng.randrange(len(env.action_set))


# ---------------------------------------------------------------- recording

def record(game, name, minimal, seed, episodes, policy, max_steps, ramping=True):
    env = GymEnv(game, minimal, ramping)
    rng = random.Random(f"{game}/{name}")
    out = []
    for k in range(episodes):
        obs = env.reset(seed if k == 0 else None)
        ep = {"seed": seed if k == 0 else None, "reset": ones(obs), "reset_h": hidden(game, env.game.env) + [env.game.last_action],
              "actions": [], "steps": []}
        for _ in range(max_steps):
            a = policy(env, rng)
            obs, r, t = env.step(a)
            ep["actions"].append(a)
            ep["steps"].append({"r": int(r), "t": bool(t), "obs": ones(obs), "h": hidden(game, env.game.env) + [env.game.last_action]})
            if t:
                break
        out.append(ep)
    return {"name": name, "action_set": "minimal" if minimal else "full", "ramping": ramping, "sticky": 0.1, "episodes": out}


def runs_for(game):
    rand = random_policy
    if game == "asterix":
        look = lambda env, rng: lookahead(env, asterix_value, 3, rng, 0.02)
        return [record(game, "lookahead_v1", True, 1, 2, look, 1500),
                record(game, "random_v1", True, 2, 4, rand, 1000),
                record(game, "random_v0", False, 3, 3, rand, 1000),
                record(game, "lookahead_no_ramping", True, 4, 1, look, 400, ramping=False)]
    if game == "freeway":
        look = lambda env, rng: lookahead(env, freeway_value, 3, rng, 0.05)
        return [record(game, "lookahead_v1", True, 5, 2, look, 3000),
                record(game, "random_v0", False, 6, 1, rand, 3000)]
    if game == "seaquest":
        look = lambda env, rng: lookahead(env, seaquest_value, 3, rng, 0.0)
        # Stays deep and never surfaces: runs out of oxygen.
        deep = lambda env, rng: lookahead(env, lambda g: -0.5 * abs(g.sub_y - 5), 2, rng, 0.0)
        return [record(game, "lookahead_v1", True, 7, 2, look, 3000),
                record(game, "deep_v1", True, 15, 2, deep, 1000),
                record(game, "random_v1", True, 8, 4, rand, 1000),
                record(game, "random_v0", False, 9, 3, rand, 1000)]
    if game == "space_invaders":
        look = lambda env, rng: lookahead(env, space_invaders_value, 3, rng, 0.03)
        return [record(game, "lookahead_v1", True, 10, 2, look, 3000),
                record(game, "random_v1", True, 11, 3, rand, 1000),
                record(game, "random_v0", False, 12, 2, rand, 1000)]
    if game == "breakout":
        look = lambda env, rng: lookahead(env, breakout_value, 2, rng, 0.05)
        return [record(game, "lookahead_v1", True, 13, 3, look, 1500),
                record(game, "random_v0", False, 14, 3, rand, 1000)]
    raise ValueError(game)


def numpy_random_checks():
    """Sequences of draws from RandomState(seed), written as [call, args..., result]."""
    out = []
    for seed in [0, 1, 5489, 123456789, 2**32 - 1]:
        r = np.random.RandomState(seed)
        calls = []
        for i in range(700):          # past one MT19937 block (624 words) so the twist is checked
            kind = i % 7
            if kind == 0:
                calls.append(["rand", float(r.rand())])
            elif kind == 1:
                calls.append(["randint", 0, 2, int(r.randint(2))])
            elif kind == 2:
                calls.append(["randint", 1, 9, int(r.randint(low=1, high=9))])
            elif kind == 3:
                calls.append(["randint", 1, 6, [int(v) for v in r.randint(1, 6, 8)]])
            elif kind == 4:
                calls.append(["rand", [float(v) for v in r.rand(8)]])
            elif kind == 5:
                n = 1 + i % 8     # asterix's randint(len(slot_options)); n = 1 draws nothing
                calls.append(["randint", 0, n, int(r.randint(n))])
            else:
                calls.append(["randint", 0, 1000003, int(r.randint(1000003))])
        out.append({"seed": seed, "calls": calls})
    return out


def main():
    sys.path.insert(0, sys.argv[1])
    out_dir = sys.argv[2]
    with open(os.path.join(out_dir, "minatar_numpy_random.json"), "w") as f:
        json.dump({"source": "numpy " + np.__version__ + " RandomState(seed): rand, randint", "seeds": numpy_random_checks()},
                  f, separators=(",", ":"))
    games = sys.argv[3:] or ["asterix", "freeway", "seaquest", "space_invaders", "breakout"]
    for game in games:
        runs = runs_for(game)
        with open(os.path.join(out_dir, f"minatar_{game}_episodes.json"), "w") as f:
            json.dump({"source": f"kenjyoung/MinAtar minatar/environments/{game}.py via minatar.Environment as minatar/gym.py "
                                 f"builds it (sticky 0.1), numpy {np.__version__}",
                       "game": game, "hidden": HIDDEN[game] + ["last_action"], "runs": runs}, f, separators=(",", ":"))
        for run in runs:
            eps = run["episodes"]
            print(game, run["name"], [len(e["steps"]) for e in eps], [sum(s["r"] for s in e["steps"]) for e in eps],
                  "terminal" if all(e["steps"][-1]["t"] for e in eps) else "CUT", file=sys.stderr)


if __name__ == "__main__":
    main()

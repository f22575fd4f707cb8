#!/usr/bin/python3
"""PyTorch peer: CleanRL-style PPO (ppo.py defaults) on CartPole-v1 with Gymnasium's physics in plain Python.

Env: 4 copies of CartPole-v1 (Euler physics of ../shared/reference/gym_reference.py, float64 state, float32
observations, TimeLimit 500, same-step autoreset as Gymnasium 0.29's SyncVectorEnv; env i is seeded with
seed + i through np.random.default_rng, as Gymnasium does). Agent and update follow CleanRL's ppo.py line by line.
Prints progress on stderr and one JSON line on stdout: {"bench": "ppo_cartpole", "peer": "torch", "env_steps",
"wall_s", "steps_per_s", "mean_return_last20", "eval_mean_return", ...}.
"""

import argparse
import math
import random
import time

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.categorical import Categorical

from common import emit, log, setup

GRAVITY, MASSPOLE, TOTAL_MASS, LENGTH, POLEMASS_LENGTH = 9.8, 0.1, 1.1, 0.5, 0.05
FORCE_MAG, TAU, THETA_LIMIT, X_LIMIT, MAX_STEPS = 10.0, 0.02, 12 * 2 * math.pi / 360, 2.4, 500


class CartPoleVec:
    """n CartPole-v1 envs; step() returns (obs float32 [n,4], reward [n], terminated [n], truncated [n]) and
    resets finished envs at once (the returned obs is then the new episode's first obs)."""

    def __init__(self, n, seed):
        self.n = n
        self.rngs = [np.random.default_rng(seed + i) for i in range(n)]
        self.state = [None] * n
        self.t = [0] * n
        self.ep_return = [0.0] * n
        self.finished = []                                  # returns of finished episodes

    def _reset(self, i):
        self.state[i] = [float(v) for v in self.rngs[i].uniform(-0.05, 0.05, size=(4,))]
        self.t[i] = 0
        self.ep_return[i] = 0.0

    def reset(self):
        for i in range(self.n):
            self._reset(i)
        return np.array(self.state, dtype=np.float32)

    def step(self, actions):
        rew = np.ones(self.n, dtype=np.float32)
        term = np.zeros(self.n, dtype=bool)
        trunc = np.zeros(self.n, dtype=bool)
        for i in range(self.n):
            x, x_dot, theta, theta_dot = self.state[i]
            force = FORCE_MAG if actions[i] == 1 else -FORCE_MAG
            c, s = math.cos(theta), math.sin(theta)
            temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * s) / TOTAL_MASS
            thetaacc = (GRAVITY * s - c * temp) / (LENGTH * (4.0 / 3.0 - MASSPOLE * (c * c) / TOTAL_MASS))
            xacc = temp - POLEMASS_LENGTH * thetaacc * c / TOTAL_MASS
            x, x_dot = x + TAU * x_dot, x_dot + TAU * xacc
            theta, theta_dot = theta + TAU * theta_dot, theta_dot + TAU * thetaacc
            self.state[i] = [x, x_dot, theta, theta_dot]
            self.t[i] += 1
            self.ep_return[i] += 1.0
            term[i] = x < -X_LIMIT or x > X_LIMIT or theta < -THETA_LIMIT or theta > THETA_LIMIT
            trunc[i] = (not term[i]) and self.t[i] >= MAX_STEPS
            if term[i] or trunc[i]:
                self.finished.append(self.ep_return[i])
                self._reset(i)
        return np.array(self.state, dtype=np.float32), rew, term, trunc


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim=4, n_actions=2):
        super().__init__()
        self.critic = nn.Sequential(layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(), layer_init(nn.Linear(64, 64)),
                                    nn.Tanh(), layer_init(nn.Linear(64, 1), std=1.0))
        self.actor = nn.Sequential(layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(), layer_init(nn.Linear(64, 64)),
                                   nn.Tanh(), layer_init(nn.Linear(64, n_actions), std=0.01))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        probs = Categorical(logits=self.actor(x))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def evaluate(agent, episodes, seed):
    """Greedy (argmax) policy, one env, mean return over `episodes` episodes."""
    env = CartPoleVec(1, seed)
    obs = env.reset()
    with torch.no_grad():
        while len(env.finished) < episodes:
            a = int(agent.actor(torch.from_numpy(obs)).argmax(dim=1)[0])
            obs, _, _, _ = env.step([a])
    return float(np.mean(env.finished[:episodes]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total-steps", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--num-steps", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2.5e-4)
    a = ap.parse_args()
    meta = setup(a.threads)
    gamma, gae_lambda, num_minibatches, update_epochs = 0.99, 0.95, 4, 4
    clip_coef, ent_coef, vf_coef, max_grad_norm = 0.2, 0.01, 0.5, 0.5
    batch_size = a.num_envs * a.num_steps
    minibatch_size = batch_size // num_minibatches
    num_iterations = a.total_steps // batch_size

    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    envs = CartPoleVec(a.num_envs, a.seed)
    agent = Agent()
    optimizer = torch.optim.Adam(agent.parameters(), lr=a.lr, eps=1e-5)

    obs = torch.zeros((a.num_steps, a.num_envs, 4))
    actions = torch.zeros((a.num_steps, a.num_envs))
    logprobs = torch.zeros((a.num_steps, a.num_envs))
    rewards = torch.zeros((a.num_steps, a.num_envs))
    dones = torch.zeros((a.num_steps, a.num_envs))
    values = torch.zeros((a.num_steps, a.num_envs))

    global_step = 0
    start = time.perf_counter()
    next_obs = torch.from_numpy(envs.reset())
    next_done = torch.zeros(a.num_envs)
    for iteration in range(1, num_iterations + 1):
        frac = 1.0 - (iteration - 1.0) / num_iterations
        optimizer.param_groups[0]["lr"] = frac * a.lr
        for step in range(a.num_steps):
            global_step += a.num_envs
            obs[step] = next_obs
            dones[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob
            o, r, term, trunc = envs.step(action.numpy())
            next_obs = torch.from_numpy(o)
            rewards[step] = torch.from_numpy(r)
            next_done = torch.from_numpy(np.logical_or(term, trunc).astype(np.float32))

        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(a.num_steps)):
                if t == a.num_steps - 1:
                    nextnonterminal = 1.0 - next_done
                    nextvalues = next_value
                else:
                    nextnonterminal = 1.0 - dones[t + 1]
                    nextvalues = values[t + 1]
                delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, 4))
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape(-1)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)
        b_inds = np.arange(batch_size)
        for epoch in range(update_epochs):
            np.random.shuffle(b_inds)
            for s in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[s:s + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds],
                                                                              b_actions.long()[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                mb_advantages = b_advantages[mb_inds]
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                newvalue = newvalue.view(-1)
                v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                v_clipped = b_values[mb_inds] + torch.clamp(newvalue - b_values[mb_inds], -clip_coef, clip_coef)
                v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), max_grad_norm)
                optimizer.step()

        if iteration % 50 == 0 or iteration == num_iterations:
            el = time.perf_counter() - start
            recent = envs.finished[-20:]
            log(f"step {global_step:>7d}  SPS {global_step / el:7.0f}  mean return (last 20) "
                f"{np.mean(recent) if recent else float('nan'):6.1f}  ETA {el / iteration * (num_iterations - iteration):5.0f}s")

    wall = time.perf_counter() - start
    recent = envs.finished[-20:]
    eval_mean = evaluate(agent, 20, a.seed + 10_000)
    emit(meta, bench="ppo_cartpole", seed=a.seed, env_steps=global_step, wall_s=round(wall, 2),
         steps_per_s=round(global_step / wall, 1), episodes=len(envs.finished),
         mean_return_last20=float(np.mean(recent)) if recent else None, eval_mean_return=eval_mean,
         eval_episodes=20)


if __name__ == "__main__":
    main()

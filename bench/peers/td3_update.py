#!/usr/bin/python3
"""PyTorch peer of `Tiny.Bench td3`: one TD3 update as CleanRL's td3_continuous_action.py does it.

Pendulum sizes (obs 3, action 1, action scale 2), 400-300 ReLU actor and twin critics (rl-baselines3-zoo's TD3
Pendulum nets), batch 256, Adam lr 3e-4, gamma 0.99, tau 0.005, policy noise 0.2 clipped at 0.5, policy_frequency 2.
Timed: a cycle of two critic steps and one actor step with Polyak averaging of all three targets by in-place
`lerp_` (the fastest honest torch form of CleanRL's `target.data.copy_(tau * p + (1 - tau) * target)`), and the
critic step alone. One fixed batch: replay sampling is left out on both sides. One JSON line per thread count:
us_per_update (= cycle / 2) best and median, us_critic_step.
"""

import argparse

import torch

from common import emit, setup, time_budget_us

OBS, ACT, H1, H2 = 3, 1, 400, 300
GAMMA, TAU, POLICY_NOISE, NOISE_CLIP = 0.99, 0.005, 0.2, 0.5


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class Actor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp([OBS, H1, H2, ACT])
        self.register_buffer("action_scale", torch.tensor([2.0]))
        self.register_buffer("action_bias", torch.tensor([0.0]))

    def forward(self, x):
        return torch.tanh(self.net(x)) * self.action_scale + self.action_bias


class QNetwork(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp([OBS + ACT, H1, H2, 1])

    def forward(self, x, a):
        return self.net(torch.cat([x, a], 1))


def make(batch):
    torch.manual_seed(0)
    actor, qf1, qf2 = Actor(), QNetwork(), QNetwork()
    actor_t, qf1_t, qf2_t = Actor(), QNetwork(), QNetwork()
    actor_t.load_state_dict(actor.state_dict())
    qf1_t.load_state_dict(qf1.state_dict())
    qf2_t.load_state_dict(qf2.state_dict())
    q_opt = torch.optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=3e-4)
    a_opt = torch.optim.Adam(list(actor.parameters()), lr=3e-4)
    obs, next_obs = torch.randn(batch, OBS), torch.randn(batch, OBS)
    actions, rewards, dones = torch.randn(batch, ACT).clamp(-2, 2), torch.randn(batch, 1), torch.zeros(batch, 1)
    pairs = [(list(t.parameters()), list(s.parameters())) for t, s in ((actor_t, actor), (qf1_t, qf1), (qf2_t, qf2))]

    def critic_step():
        with torch.no_grad():
            clipped_noise = (torch.randn_like(actions) * POLICY_NOISE).clamp(-NOISE_CLIP, NOISE_CLIP) * actor_t.action_scale
            next_state_actions = (actor_t(next_obs) + clipped_noise).clamp(-2.0, 2.0)
            qf1_next_target = qf1_t(next_obs, next_state_actions)
            qf2_next_target = qf2_t(next_obs, next_state_actions)
            min_qf_next_target = torch.min(qf1_next_target, qf2_next_target)
            next_q_value = rewards.flatten() + (1 - dones.flatten()) * GAMMA * min_qf_next_target.view(-1)
        qf1_a_values = qf1(obs, actions).view(-1)
        qf2_a_values = qf2(obs, actions).view(-1)
        qf_loss = torch.nn.functional.mse_loss(qf1_a_values, next_q_value) + torch.nn.functional.mse_loss(qf2_a_values, next_q_value)
        q_opt.zero_grad()
        qf_loss.backward()
        q_opt.step()

    def actor_step():
        actor_loss = -qf1(obs, actor(obs)).mean()
        a_opt.zero_grad()
        actor_loss.backward()
        a_opt.step()
        with torch.no_grad():
            for target, source in pairs:
                for t, s in zip(target, source):
                    t.lerp_(s, TAU)   # t = t + tau * (s - t)

    def cycle():
        critic_step()
        critic_step()
        actor_step()

    return cycle, critic_step


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    for threads in [int(t) for t in args.threads.split(",")]:
        meta = setup(threads)
        cycle, critic = make(args.batch)
        cb, cm, reps = time_budget_us(cycle, args.passes)
        qb, qm, _ = time_budget_us(critic, args.passes)
        emit(meta, bench="td3_update", batch=args.batch, nets="400-300", us_per_update_best=round(cb / 2, 1),
             us_per_update_median=round(cm / 2, 1), us_critic_step_best=round(qb, 1), us_critic_step_median=round(qm, 1),
             reps=reps, passes=args.passes)


if __name__ == "__main__":
    main()

// StudyPresets: the built-in study specs: alphagrad-paper (the AlphaGrad paper's comparison, sized for an hour on two
// cores) and smoke (the same pipeline at toy budgets, for CI).
namespace Tiny.Rl.Studies;

/// <summary>The built-in study specs, as the JSON <see cref="StudySpec.Parse"/> reads.</summary>
public static class StudyPresets
{
    /// <summary>The presets' names.</summary>
    public static IReadOnlyList<string> Names => [AlphaGradPaper, Smoke];

    /// <summary>The AlphaGrad paper's comparison.</summary>
    public const string AlphaGradPaper = "alphagrad-paper";

    /// <summary>The CI-sized pipeline check.</summary>
    public const string Smoke = "smoke";

    /// <summary>A preset's JSON, or null.</summary>
    public static string? Json(string name) => name switch
    {
        AlphaGradPaper => AlphaGradPaperJson,
        Smoke => SmokeJson,
        _ => null,
    };

    // The budgets: 420 runs (6 tasks x 7 optimizers x 10 seeds) must finish within an hour on two cores, so each run
    // gets a few CPU-seconds: DQN/CartPole 50k steps (CleanRL's settings otherwise), DQN/Acrobot 30k (rl-zoo's settings
    // with 64-64 nets and one update per 4 steps), TD3/Pendulum 15k (rl-zoo's settings with 64-64 nets and learning
    // from step 1000: its 400-300 nets take minutes per run), PPO 100k on each env (CleanRL's settings on CartPole,
    // rl-zoo's on Acrobot, Tiny's tuned ones on Pendulum). At these budgets Adam reaches roughly 190 (CartPole DQN),
    // -85 (Acrobot), -140 (TD3 Pendulum), 495 (PPO CartPole) and -150 (PPO Pendulum) in single-seed checks.
    // MountainCar-v0 and MountainCarContinuous-v0 are left out: at budgets that fit, every run stays at the random
    // policy's score (exploration-bound; rl-zoo trains them 120k-1M steps with 256-400 wide nets), which says nothing
    // about optimizers. AlphaGrad follows the author's scripts (eps 1e-5, momentum 0.9, the agent's lr, no grad-norm
    // clipping in PPO); its alpha grid (x8 steps) spans the regimes of tanh(alpha g / ||g||): with n elements per tensor
    // a component is about alpha / sqrt(n), so alpha 0.5 keeps every tensor of these nets in tanh's linear range
    // (normalised gradient descent), 4 and 32 are partly saturated, and alpha 256 saturates the 64x64 weights
    // (alpha / sqrt(4096) = 4, tanh 0.999: sign descent). Six alphas (0.5 to 512 in x4 steps) were the first grid;
    // measured on a 2-core Xeon (2026-12-02: TD3 21 s per run, PPO 11-17 s, DQN 7-8 s, two at a time) the 540 runs
    // needed about 59 min of an idle machine, too close to the hour, so the grid has four.
    // SGD with momentum 0.9 at lr 0.01 and AdaBound at the agent's lr (final_lr 0.1) are untuned baselines.
    private const string AlphaGradPaperJson = """
    {
      "name": "alphagrad-paper",
      "description": "AlphaGrad (alpha swept) against Adam, SGD with momentum and AdaBound on DQN, TD3 and PPO, after Sane 2025 (arXiv 2504.16020)",
      "seeds": 10,
      "evalEpisodes": 20,
      "evalSeed": 1000000,
      "baseline": "adam",
      "tasks": [
        {"agent": "dqn", "env": "CartPole-v1", "totalSteps": 50000},
        {"agent": "dqn", "env": "Acrobot-v1", "totalSteps": 30000, "options": {"hiddenSizes": [64, 64], "trainFrequency": 4}},
        {"agent": "td3", "env": "Pendulum-v1", "totalSteps": 15000,
         "options": {"learningStarts": 1000, "actorHiddenSizes": [64, 64], "criticHiddenSizes": [64, 64], "bufferSize": 15000}},
        {"agent": "ppo", "env": ["CartPole-v1", "Acrobot-v1", "Pendulum-v1"], "totalSteps": 100000}
      ],
      "optimizers": [
        {"label": "adam"},
        {"label": "alphagrad", "spec": "alphagrad:eps=1e-5,momentum=0.9", "sweep": {"alpha": [0.5, 4, 32, 256]},
         "agentOptions": {"ppo": {"maxGradNorm": null}}},
        {"label": "sgd-momentum", "spec": "sgd:lr=0.01,momentum=0.9"},
        {"label": "adabound", "spec": "adabound"}
      ]
    }
    """;

    // The same agents, envs, optimizer families and report at toy budgets (2 seeds, two alphas): checks the pipeline,
    // not the optimizers. 40 short runs.
    private const string SmokeJson = """
    {
      "name": "smoke",
      "description": "the alphagrad-paper pipeline at toy budgets: checks the pipeline, not the optimizers",
      "seeds": 2,
      "evalEpisodes": 20,
      "evalSeed": 1000000,
      "baseline": "adam",
      "tasks": [
        {"agent": "dqn", "env": "CartPole-v1", "totalSteps": 3000, "options": {"learningStarts": 1000, "hiddenSizes": [32, 32]}},
        {"agent": "td3", "env": "Pendulum-v1", "totalSteps": 1200,
         "options": {"learningStarts": 400, "actorHiddenSizes": [32, 32], "criticHiddenSizes": [32, 32], "bufferSize": 1200}},
        {"agent": "ppo", "env": ["CartPole-v1", "Pendulum-v1"], "totalSteps": 8192}
      ],
      "optimizers": [
        {"label": "adam"},
        {"label": "alphagrad", "spec": "alphagrad:eps=1e-5,momentum=0.9", "sweep": {"alpha": [1, 64]},
         "agentOptions": {"ppo": {"maxGradNorm": null}}},
        {"label": "sgd-momentum", "spec": "sgd:lr=0.01,momentum=0.9"},
        {"label": "adabound", "spec": "adabound"}
      ]
    }
    """;
}

// PPO (Schulman et al. 2017), after CleanRL's ppo.py (discrete) and ppo_continuous_action.py (continuous):
// one file that reads top to bottom: options, networks, rollout, GAE, clipped-surrogate update, save/load.
using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>PPO's hyperparameters; the defaults are CleanRL ppo.py's (CartPole-v1).</summary>
public sealed record PpoOptions
{
    /// <summary>Seed of every random number: network init, action sampling, minibatch shuffling and env resets (default 1).</summary>
    [Description("seed of everything (init, sampling, env resets)")] public int Seed { get; init; } = 1;
    /// <summary>Env steps to train for, summed over the NumEnvs envs (default 500,000); TotalTimesteps / BatchSize updates run.</summary>
    [Description("total env steps")] public long TotalTimesteps { get; init; } = 500_000;
    /// <summary>Learning rate used when the optimizer spec gives none (default 2.5e-4); <see cref="AnnealLr"/> scales it down over the run.</summary>
    [Description("lr when the optimizer spec gives none")] public double LearningRate { get; init; } = 2.5e-4;
    /// <summary>Envs stepped side by side (one vector env) in each rollout (default 4).</summary>
    [Description("parallel envs")] public int NumEnvs { get; init; } = 4;
    /// <summary>Steps of each env per rollout (default 128), so a rollout holds NumEnvs * NumSteps transitions.</summary>
    [Description("steps per env per rollout")] public int NumSteps { get; init; } = 128;
    /// <summary>When true (default), the learning rate falls linearly over the updates: lr = base * (1 - (update - 1) / numUpdates).</summary>
    [Description("anneal lr linearly to 0")] public bool AnnealLr { get; init; } = true;
    /// <summary>Discount factor of the returns and of GAE, in [0, 1] (default 0.99).</summary>
    [Description("discount")] public double Gamma { get; init; } = 0.99;
    /// <summary>Lambda of generalized advantage estimation, in [0, 1] (default 0.95): 0 gives the one-step TD error, 1 the Monte Carlo advantage.</summary>
    [Description("GAE lambda")] public double GaeLambda { get; init; } = 0.95;
    /// <summary>Minibatches each epoch splits the shuffled rollout into (default 4); must divide <see cref="BatchSize"/>.</summary>
    [Description("minibatches per epoch")] public int NumMinibatches { get; init; } = 4;
    /// <summary>Passes over the whole rollout per update (default 4).</summary>
    [Description("epochs per rollout")] public int UpdateEpochs { get; init; } = 4;
    /// <summary>When true (default), advantages are shifted and scaled to mean 0 and std 1 within each minibatch.</summary>
    [Description("normalise advantages per minibatch")] public bool NormAdv { get; init; } = true;
    /// <summary>Epsilon of the clipped surrogate (default 0.2): the probability ratio is clipped to [1 - eps, 1 + eps]; with <see cref="ClipVloss"/> also the value clip.</summary>
    [Description("surrogate clip coefficient")] public double ClipCoef { get; init; } = 0.2;
    /// <summary>When true (default), the value loss is max((V - R)^2, (V_old + clip(V - V_old, -ClipCoef, ClipCoef) - R)^2), as CleanRL's; else (V - R)^2.</summary>
    [Description("clip the value loss too")] public bool ClipVloss { get; init; } = true;
    /// <summary>Weight of the entropy bonus: loss = policy loss - EntCoef * entropy + VfCoef * value loss (default 0.01).</summary>
    [Description("entropy coefficient")] public double EntCoef { get; init; } = 0.01;
    /// <summary>Weight of the value loss in the total loss (default 0.5).</summary>
    [Description("value loss coefficient")] public double VfCoef { get; init; } = 0.5;
    /// <summary>Global L2 norm the gradients of all parameters are clipped to before each optimizer step (default 0.5; null or 0: no clipping).</summary>
    [Description("global grad-norm clip (null or 0: off)")] public double? MaxGradNorm { get; init; } = 0.5;
    /// <summary>Approximate KL divergence (the k3 estimator) above which an update stops after the current epoch (default null: all epochs run).</summary>
    [Description("stop the epochs early above this approx KL (null: off)")] public double? TargetKl { get; init; }
    /// <summary>Width of the hidden layers (default 64): both Tanh layers of each MLP, or the one Linear layer after the conv of the cnn.</summary>
    [Description("hidden layer width (actor and critic, 2 layers; cnn: 1 layer after the conv)")] public int HiddenSize { get; init; } = 64;
    /// <summary>Network kind: auto (default; cnn for [C, H, W] observations, else mlp), mlp, cnn, or the name of a
    /// network registered with <see cref="Networks.Register"/> (its factory builds actor and critic); <see cref="Ppo.Options"/>
    /// holds the resolved kind ("custom": a factory passed to the constructor).</summary>
    [Description("network: auto (cnn for [C, H, W] observations, else mlp), mlp, cnn (conv torso per actor and critic), or a registered network's name")] public string Net { get; init; } = "auto";
    /// <summary>Normalise observations by their running mean and std, o' = clip((o - mean) / sqrt(var + 1e-8), +-NormClip),
    /// each env with its own statistics (Gymnasium's NormalizeObservation; env 0's are frozen for Act and eval) (default false).</summary>
    [Description("normalise observations (running mean/std, clip 10)")] public bool NormalizeObs { get; init; }
    /// <summary>Divide rewards by the running std of the discounted return G = gamma * G + r, clipped to +-NormClip
    /// (Gymnasium's NormalizeReward) (default false).</summary>
    [Description("normalise rewards by the return's std (clip 10)")] public bool NormalizeReward { get; init; }
    /// <summary>With <see cref="NormalizeReward"/>: the discounted return is SB3 VecNormalize's, G = gamma * G + r restarted
    /// at 0 after every episode end, a time-out included; default false: Gymnasium's G = gamma * G * (1 - terminated) + r,
    /// which runs on across time-outs (an env cut by its limit before any termination has G near r / (1 - gamma),
    /// whose variance shrinks as the count grows, so the reward scale drifts up over training).</summary>
    [Description("reward normalisation restarts the return at every episode end (SB3 VecNormalize)")] public bool NormalizeRewardSb3 { get; init; }
    /// <summary>Bound of the normalised observations and rewards: they are clipped to [-NormClip, NormClip] (default 10).</summary>
    [Description("clip of normalised observations and rewards")] public double NormClip { get; init; } = 10;

    /// <summary>When true, an episode cut by the time limit (truncated and not terminated) is not an end of the return:
    /// its last reward becomes r_T + gamma * V(s_T+1), V of its true last observation (Stable-Baselines3's time-out
    /// handling; the observation after it still starts a new episode in GAE). Default false: CleanRL's, a truncation
    /// ends the return as a termination does (V = 0 after it).</summary>
    [Description("bootstrap r + gamma * V(last obs) at time-outs (SB3) instead of ending the return")] public bool BootstrapTimeouts { get; init; }
    /// <summary>Continuous actions only: generalized state-dependent exploration (gSDE, Raffin et al. 2021; SB3's
    /// use_sde with full_std, exp, unsquashed, features not learned). With f(s) the actor's last hidden features
    /// (detached) and a log-std matrix L [features, actions], the exploration noise is f(s) M with M_ij ~ N(0, exp(L_ij)^2)
    /// drawn once per env at each rollout's start (see <see cref="SdeSampleFreq"/>), so an action is a = mu(s) + f(s) M:
    /// smooth in s and constant noise over the rollout. Its log-prob and entropy are a diagonal Gaussian's with
    /// sigma_j(s) = sqrt(sum_i f_i(s)^2 exp(L_ij)^2 + 1e-6). Default false: state-independent N(mu(s), exp(logstd)^2) noise.</summary>
    [Description("continuous: gSDE, state-dependent exploration noise f(s) M (SB3 use_sde)")] public bool UseSde { get; init; }
    /// <summary>gSDE: draw new noise matrices every SdeSampleFreq env steps within a rollout as well; -1 (default):
    /// only at the start of each rollout (SB3's sde_sample_freq).</summary>
    [Description("gSDE: resample the noise every N steps (-1: once per rollout)")] public int SdeSampleFreq { get; init; } = -1;
    /// <summary>Continuous: the initial value of every log-std entry (default 0, std 1; gSDE: of each entry of L).</summary>
    [Description("continuous: initial log std (gSDE: of its matrix)")] public double LogStdInit { get; init; }
    /// <summary>When true (default), CleanRL's init of the built-in networks: orthogonal weights with gain sqrt 2 (the
    /// heads: actor 0.01, critic 1), zero biases; false: PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) (SB3's ortho_init=False).</summary>
    [Description("orthogonal init (false: PyTorch's default Linear init)")] public bool OrthoInit { get; init; } = true;

    /// <summary>numEnvs * numSteps.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public int BatchSize => NumEnvs * NumSteps;
    /// <summary>batchSize / numMinibatches.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public int MinibatchSize => BatchSize / NumMinibatches;

    /// <summary>Throws ArgumentException naming the first bad value.</summary>
    public void Validate()
    {
        void Check(bool ok, string what) { if (!ok) throw new ArgumentException($"ppo: {what}"); }
        Check(NumEnvs > 0, $"numEnvs must be positive, got {NumEnvs}");
        Check(NumSteps > 0, $"numSteps must be positive, got {NumSteps}");
        Check(TotalTimesteps >= BatchSize, $"totalTimesteps ({TotalTimesteps}) must be at least one batch, numEnvs*numSteps ({BatchSize}): no update would run");
        Check(NumMinibatches > 0 && BatchSize % NumMinibatches == 0, $"numMinibatches ({NumMinibatches}) must divide numEnvs*numSteps ({BatchSize})");
        Check(UpdateEpochs > 0, $"updateEpochs must be positive, got {UpdateEpochs}");
        Check(Gamma is >= 0 and <= 1, $"gamma must be in [0, 1], got {Gamma}");
        Check(GaeLambda is >= 0 and <= 1, $"gaeLambda must be in [0, 1], got {GaeLambda}");
        Check(LearningRate > 0, $"learningRate must be positive, got {LearningRate}");
        Check(ClipCoef > 0, $"clipCoef must be positive, got {ClipCoef}");
        Check(HiddenSize > 0, $"hiddenSize must be positive, got {HiddenSize}");
        Check(NormClip > 0, $"normClip must be positive, got {NormClip}");
        Check(!string.IsNullOrWhiteSpace(Net), "net must name a network (auto, mlp, cnn or a registered one)");
        Check(SdeSampleFreq == -1 || SdeSampleFreq > 0, $"sdeSampleFreq must be -1 (once per rollout) or positive, got {SdeSampleFreq}");
        Check(double.IsFinite(LogStdInit), $"logStdInit must be finite, got {LogStdInit}");
    }
}

/// <summary>
/// Actor and critic (separate 64-64 Tanh MLPs, or with net "cnn" separate MinAtar conv torsos: Conv2d(C->16, 3x3) -> ReLU
/// -> hidden -> ReLU -> head, conv layers at PyTorch's default init; or a user's modules) and, for continuous actions,
/// the log-std (a [features, actions] matrix with gSDE).
/// </summary>
public sealed class PpoNetwork : Module
{
    /// <summary>Builds actor and critic for obsDim-long observations and actDim outputs (logits, or Gaussian means when
    /// continuous) with hidden-wide layers initialised from rng (orthoInit: CleanRL's orthogonal init, else PyTorch's
    /// default); net "cnn" needs obsSpace, the [C, H, W] Box. Continuous: every log-std entry starts at logStdInit, one
    /// per action, or with sde (gSDE) one per (actor feature, action).</summary>
    public PpoNetwork(int obsDim, int actDim, bool continuous, int hidden, Rng rng, string net = "mlp", Box? obsSpace = null,
                      bool orthoInit = true, double logStdInit = 0, bool sde = false)
    {
        Continuous = continuous;
        Sequential Torso(int outDim) => net == "cnn"
            ? QNetworks.Create("cnn", obsSpace ?? throw new ArgumentException("PpoNetwork: the cnn needs the observation space"), outDim, [hidden], rng)
            : Mlp.Create([obsDim, hidden, hidden, outDim], () => new Tanh(), rng);
        Sequential Init(Sequential torso, double headGain) => orthoInit ? Layer(torso, headGain, rng) : torso;
        // Module lists its own parameters first; register actor_logstd after the children so names read in order.
        Critic = RegisterModule("critic", Init(Torso(1), 1.0));
        Actor = RegisterModule("actor", Init(Torso(actDim), 0.01));
        if (continuous) ActorLogStd = AddLogStd(actDim, logStdInit, sde);
    }

    /// <summary>A user's actor (observations [B, obsDim] to logits or Gaussian means [B, actDim]) and critic ([B, obsDim]
    /// to [B, 1]), used as given (their own initialisation); the log-std (continuous) starts at logStdInit. A module
    /// shared by both (a common torso) is trained once per step. sde (gSDE) needs an actor that is a
    /// <see cref="Sequential"/> ending in a <see cref="Linear"/>: that layer's input is gSDE's features.</summary>
    public PpoNetwork(Module actor, Module critic, int actDim, bool continuous, double logStdInit = 0, bool sde = false)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(critic);
        Continuous = continuous;
        Critic = RegisterModule("critic", critic);
        Actor = RegisterModule("actor", actor);
        if (continuous) ActorLogStd = AddLogStd(actDim, logStdInit, sde);
    }

    // The log-std parameter: [1, actDim], or with gSDE [features, actDim] (SB3's full_std), every entry logStdInit.
    private Tensor AddLogStd(int actDim, double logStdInit, bool sde)
    {
        if (sde)
        {
            if (Actor is not Sequential { Count: >= 2 } seq || seq[seq.Count - 1] is not Linear head)
                throw new ArgumentException("ppo: gSDE (useSde) needs an actor that is a Sequential ending in a Linear layer (its input is gSDE's features)");
            SdeFeatures = head.InFeatures;
        }
        return RegisterParameter("actor_logstd", Tensor.Full([sde ? SdeFeatures : 1, actDim], logStdInit));
    }

    /// <summary>True when the actor outputs Gaussian means (Box actions, with <see cref="ActorLogStd"/>); false when it outputs Categorical logits.</summary>
    public bool Continuous { get; }
    /// <summary>The policy: observations [B, obsDim] to logits or action means [B, actDim] (built in: its last layer starts at orthogonal gain 0.01).</summary>
    public Module Actor { get; }
    /// <summary>The value function: observations [B, obsDim] to V(s) as [B, 1] (built in: its last layer starts at orthogonal gain 1).</summary>
    public Module Critic { get; }
    /// <summary>The Gaussian policy's log standard deviations: [1, actDim] (state-independent), or with gSDE
    /// [<see cref="SdeFeatures"/>, actDim], the log-std of each entry of the noise matrix; null for discrete actions.</summary>
    public Tensor? ActorLogStd { get; }
    /// <summary>gSDE: the number of actor features f(s) (the input width of the actor's last Linear); 0 without gSDE.</summary>
    public int SdeFeatures { get; private set; }

    /// <summary>The actor's output for observations [B, obsDim] and, with gSDE, its last hidden features f(s) [B, SdeFeatures]
    /// (the output of every layer but the last; null without gSDE).</summary>
    public (Tensor Head, Tensor? Features) ActorForward(Tensor obs)
    {
        if (SdeFeatures == 0) return (Actor.Forward(obs), null);
        var seq = (Sequential)Actor;
        var x = obs;
        for (int i = 0; i < seq.Count - 1; i++) x = seq[i].Forward(x);
        return (seq[seq.Count - 1].Forward(x), x);
    }

    /// <summary>CleanRL's layer_init: orthogonal weights (gain sqrt 2, last layer headGain), zero biases.</summary>
    private static Sequential Layer(Sequential mlp, double headGain, Rng rng)
    {
        var linears = mlp.Children().OfType<Linear>().ToList();
        for (int i = 0; i < linears.Count; i++)
        {
            Init.Orthogonal(linears[i].Weight, rng, i == linears.Count - 1 ? headGain : Math.Sqrt(2));
            Init.Constant(linears[i].Bias!, 0);
        }
        return mlp;
    }

    /// <summary>V(s), shape [B].</summary>
    public Tensor Value(Tensor obs) => Critic.Forward(obs).Reshape(obs.Shape[0]);

    /// <summary>The value head (unused: call Actor / Critic).</summary>
    public override Tensor Forward(Tensor x) => Actor.Forward(x);
}

/// <summary>PPO with clipped surrogate, GAE, clipped value loss; Categorical (Discrete) or Gaussian (Box) policy.</summary>
public sealed class Ppo : IAgent
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    private readonly Rng _rng;
    private readonly int _obsDim, _actDim, _numActions;
    private readonly float[] _actLow = [], _actHigh = [];
    private RunningMeanStd? _obsRms;   // frozen copy used by Act (continuous with NormalizeObs)

    /// <summary>
    /// Builds actor and critic for envId (a Box observation space; Discrete or Box actions) from options.Seed; optimizer
    /// null = Adam with eps 1e-5 at options.LearningRate, as CleanRL. network: a factory of the user's actor and critic
    /// (called for each, <see cref="NetworkContext.Role"/> "critic" then "actor"; sizes checked before training), which
    /// overrides options.Net; without it options.Net picks a built-in kind or a registered network. Bad options or
    /// networks throw ArgumentException.
    /// </summary>
    public Ppo(string envId, PpoOptions options, OptimizerSpec? optimizer = null, Func<NetworkContext, Module>? network = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(envId);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        EnvId = envId;
        OptimizerSpec = optimizer ?? Agents.DefaultOptimizer("ppo");
        OptimizerSpec.Validate();
        using var probe = Env.Make(envId);
        var obsSpace = probe.ObservationSpace as Box ?? throw new ArgumentException($"ppo: needs a Box observation space, {envId} has {probe.ObservationSpace}");
        // config.json records the kind: mlp or cnn, a registered network's name, or "custom" for a factory passed here.
        Options = options with { Net = network is null ? QNetworks.Resolve(options.Net, obsSpace, envId) : Networks.InCode };
        _obsDim = obsSpace.Dim;
        switch (probe.ActionSpace)
        {
            case Discrete d: _numActions = d.N; _actDim = d.N; break;
            case Box b: Continuous = true; _actDim = b.Dim; _actLow = b.Low; _actHigh = b.High; break;
            default: throw new ArgumentException($"ppo: unsupported action space {probe.ActionSpace} of {envId}");
        }
        if (options.UseSde && !Continuous) throw new ArgumentException($"ppo: gSDE (useSde) needs continuous actions; {envId} has {probe.ActionSpace}");
        _rng = new Rng(options.Seed);
        ActionRng = new Rng(options.Seed).Fork();
        if (network is null && QNetworks.Kinds.Contains(Options.Net))
            Network = new PpoNetwork(_obsDim, _actDim, Continuous, options.HiddenSize, _rng, Options.Net, obsSpace, options.OrthoInit, options.LogStdInit, options.UseSde);
        else
        {
            string label = network is null ? $"net '{Options.Net}'" : "the factory passed to Ppo";
            network ??= Networks.Factory(Options.Net);
            NetworkContext Ctx(string role, int outputs) => new(Algorithm, role, role, envId, obsSpace, probe.ActionSpace, _obsDim, outputs, _rng);
            var critic = Networks.Build(network, Ctx("critic", 1), label);
            var actor = Networks.Build(network, Ctx("actor", _actDim), label);
            Network = new PpoNetwork(actor, critic, _actDim, Continuous, options.LogStdInit, options.UseSde);
        }
    }

    /// <inheritdoc/>
    public string Algorithm => "ppo";
    /// <inheritdoc/>
    public string EnvId { get; }
    /// <summary>The hyperparameters, with <see cref="PpoOptions.Net"/> resolved from auto to mlp or cnn ("custom" for a factory passed in code).</summary>
    public PpoOptions Options { get; }
    /// <summary>The optimizer spec: one optimizer over actor, critic and log-std (default Adam, eps 1e-5).</summary>
    public OptimizerSpec OptimizerSpec { get; }
    /// <summary>Actor, critic and (continuous) log-std: what training updates and <see cref="Save"/> writes.</summary>
    public PpoNetwork Network { get; }

    /// <inheritdoc/>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters() => Network.NamedParameters();

    /// <summary>The generator <see cref="Act(ReadOnlySpan{float}, bool, Rng?)"/> samples from when given none: seeded
    /// from options.Seed, apart from training's streams (acting never changes a run), restarted by Load.</summary>
    public Rng ActionRng { get; }

    // Each trained tensor once (a user's actor and critic may share a torso), in registration order.
    private List<Tensor> TrainedParameters() => Network.Parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToList();
    /// <summary>True for a Box action space (Gaussian policy).</summary>
    public bool Continuous { get; }
    /// <summary>The frozen observation statistics Act normalises with (continuous with NormalizeObs, once trained or
    /// loaded), or null; ONNX export folds them into the model.</summary>
    internal RunningMeanStd? ObservationStats => _obsRms;
    /// <summary>Env steps taken by <see cref="Train"/>.</summary>
    public long GlobalStep { get; private set; }
    /// <summary>Where the networks and their updates run (envs and rollout storage stay on the CPU).</summary>
    public Device Device { get; private set; } = Device.Cpu;

    /// <summary>Moves the networks (so the forward passes, backward passes and optimizer updates) to device; each step
    /// uploads the observations and downloads the policy's outputs. Returns this.</summary>
    public Ppo To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Network.To(device);
        Device = device;
        return this;
    }

    IAgent IAgent.To(Device device) => To(device);

    private Env MakeEnv(int i)
    {
        // CleanRL's wrapper order; RecordEpisodeStatistics sits below the normalisers so returns are raw.
        Env env = new RecordEpisodeStatistics(Env.Make(EnvId));
        if (Continuous) env = new ClipAction(env);
        if (Options.NormalizeObs) env = new NormalizeObservation(env, clip: (float)Options.NormClip);
        if (Options.NormalizeReward) env = new NormalizeReward(env, Options.Gamma, clip: Options.NormClip, restartAtEpisodeEnd: Options.NormalizeRewardSb3);
        return env;
    }

    /// <summary>A training run in progress: what continues from one Train call (or checkpoint) to the next.</summary>
    private sealed class Session(Optimizer optimizer, SyncVectorEnv envs, int obsDim, int batchPerEnv)
    {
        public Optimizer Optimizer { get; } = optimizer;
        public double BaseLr { get; } = optimizer.Lr;          // the spec's lr, which annealing scales
        public SyncVectorEnv Envs { get; } = envs;
        public float[] NextObs { get; } = new float[envs.NumEnvs * obsDim];
        public float[] NextDone { get; } = new float[envs.NumEnvs];
        public long Update { get; set; } = 1;                  // the next update, 1-based as CleanRL's
        public bool EvalMode { get; set; }                     // Eval() was called (a finished run)
        public Dictionary<string, double> Metrics { get; set; } = [];   // the last update's, sent with each episode
        public int[] Indices { get; } = Enumerable.Range(0, envs.NumEnvs * batchPerEnv).ToArray();   // minibatch order
        // gSDE's noise matrices M, one [features, actions] per env. Not checkpointed: every rollout draws them afresh
        // before its first step, and a checkpoint is taken only between rollouts.
        public float[] SdeNoise { get; set; } = [];
    }

    private Session? _session;

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, Optimizer>> Optimizers => [new("optimizer", (_session ??= NewSession(reset: true)).Optimizer)];

    /// <inheritdoc/>
    public bool Finished => _session is { } s && s.Update > Options.TotalTimesteps / Options.BatchSize;

    private Session NewSession(bool reset)
    {
        var s = new Session(OptimizerSpec.Create(TrainedParameters(), Options.LearningRate),
                            new SyncVectorEnv(MakeEnv, Options.NumEnvs, AutoresetMode.SameStep), _obsDim, Options.NumSteps);
        if (reset) s.Envs.Reset(Options.Seed).CopyTo(s.NextObs, 0);
        return s;
    }

    /// <summary>Trains for Options.TotalTimesteps env steps, continuing a run in progress; when ct is cancelled it
    /// stops after the current update (see <see cref="IAgent.Train"/>).</summary>
    public void Train(Action<ProgressInfo>? progress = null, CancellationToken ct = default, Action<long>? boundary = null)
    {
        var o = Options;
        int numEnvs = o.NumEnvs, numSteps = o.NumSteps, batchSize = o.BatchSize, minibatchSize = o.MinibatchSize;
        int obsDim = _obsDim, actDim = Continuous ? _actDim : 1;
        long numUpdates = o.TotalTimesteps / batchSize;
        var parameters = TrainedParameters();
        var session = _session ??= NewSession(reset: true);
        var (optimizer, baseLr, envs, nextObs, nextDone) = (session.Optimizer, session.BaseLr, session.Envs, session.NextObs, session.NextDone);
        if (session.EvalMode) { optimizer.Train(); session.EvalMode = false; }

        // Rollout storage, [numSteps, numEnvs, ...] flattened row-major.
        var obs = new float[batchSize * obsDim];
        var actions = new float[batchSize * actDim];
        var logprobs = new float[batchSize];
        var rewards = new float[batchSize];
        var dones = new float[batchSize];
        var values = new float[batchSize];
        var advantages = new float[batchSize];
        var returns = new float[batchSize];

        var stepActions = new float[numEnvs * actDim];
        var stepActionsInt = new int[numEnvs];
        var stepLogprob = new float[numEnvs];
        var stepValue = new float[numEnvs];
        var inds = session.Indices;   // shuffled in place epoch after epoch, so its order is state too
        var metrics = session.Metrics;

        while (session.Update <= numUpdates && !ct.IsCancellationRequested)
        {
            long update = session.Update;
            if (o.AnnealLr)
            {
                double frac = 1.0 - (update - 1.0) / numUpdates;
                optimizer.Lr = frac * baseLr;
            }

            // ---- Rollout: numSteps steps of every env, policy sampled, no gradients.
            for (int step = 0; step < numSteps; step++)
            {
                if (o.UseSde && (step == 0 || o.SdeSampleFreq > 0 && step % o.SdeSampleFreq == 0)) session.SdeNoise = SampleSdeNoise(numEnvs);
                GlobalStep += numEnvs;
                nextObs.CopyTo(obs, step * numEnvs * obsDim);
                nextDone.CopyTo(dones, step * numEnvs);
                SampleActions(nextObs, numEnvs, stepActions, stepLogprob, stepValue, session.SdeNoise);
                stepActions.CopyTo(actions, step * numEnvs * actDim);
                stepLogprob.CopyTo(logprobs, step * numEnvs);
                stepValue.CopyTo(values, step * numEnvs);

                VectorStepResult r;
                if (Continuous) r = envs.Step(stepActions);   // ClipAction clips; the raw sample keeps its log-prob
                else
                {
                    for (int e = 0; e < numEnvs; e++) stepActionsInt[e] = (int)stepActions[e];
                    r = envs.Step(stepActionsInt);
                }
                for (int e = 0; e < numEnvs; e++)
                {
                    rewards[step * numEnvs + e] = (float)r.Rewards[e];
                    nextDone[e] = r.Terminated[e] || r.Truncated[e] ? 1f : 0f;
                }
                if (o.BootstrapTimeouts) AddTimeoutValues(envs, r, rewards.AsSpan(step * numEnvs, numEnvs), o.Gamma);
                r.Observations.CopyTo(nextObs, 0);

                for (int e = 0; e < numEnvs; e++)
                    if (envs.FinishedEpisodes[e] is EpisodeInfo ep)
                        progress?.Invoke(new ProgressInfo(GlobalStep, o.TotalTimesteps, ep.Return, ep.Length, metrics, optimizer.Lr));
            }

            // ---- GAE: bootstrap from V(nextObs), as CleanRL (truncation counts as done, Gymnasium 0.29 style; with
            // BootstrapTimeouts the truncated step's reward already holds gamma * V(its last observation)).
            ValuesOf(nextObs, numEnvs, stepValue);
            ComputeGae(rewards, values, dones, stepValue, nextDone, numSteps, numEnvs, o.Gamma, o.GaeLambda, advantages, returns);

            // ---- Update: updateEpochs passes over shuffled minibatches.
            double pgLossV = 0, vLossV = 0, entropyV = 0, oldApproxKl = 0, approxKl = 0;
            var clipfracs = new List<double>();
            var mbObs = new float[minibatchSize * obsDim];
            var mbActions = new float[minibatchSize * actDim];
            var mbActionIdx = new int[minibatchSize];
            var mbLogprobs = new float[minibatchSize];
            var mbAdv = new float[minibatchSize];
            var mbReturns = new float[minibatchSize];
            var mbValues = new float[minibatchSize];
            for (int epoch = 0; epoch < o.UpdateEpochs; epoch++)
            {
                _rng.Shuffle(inds.AsSpan());
                for (int start = 0; start < batchSize; start += minibatchSize)
                {
                    using var memory = Tensor.Scope();   // the minibatch's tensors go back to a pool at the end
                    for (int k = 0; k < minibatchSize; k++)
                    {
                        int i = inds[start + k];
                        Array.Copy(obs, i * obsDim, mbObs, k * obsDim, obsDim);
                        Array.Copy(actions, i * actDim, mbActions, k * actDim, actDim);
                        mbActionIdx[k] = (int)actions[i * actDim];
                        mbLogprobs[k] = logprobs[i]; mbAdv[k] = advantages[i];
                        mbReturns[k] = returns[i]; mbValues[k] = values[i];
                    }
                    if (o.NormAdv) NormalizeInPlace(mbAdv);

                    var x = Tensor.FromArray(mbObs, [minibatchSize, obsDim], Device);
                    var (newlogprob, entropy) = LogProbAndEntropy(x, mbActions, mbActionIdx);
                    var newvalue = Network.Value(x);
                    var logratio = newlogprob - Tensor.FromArray(mbLogprobs, [minibatchSize], Device);
                    var ratio = logratio.Exp();

                    // Policy loss: the clipped surrogate.
                    var adv = Tensor.FromArray(mbAdv, [minibatchSize], Device);
                    var pgLoss1 = -adv * ratio;
                    var pgLoss2 = -adv * ratio.Clamp(1 - o.ClipCoef, 1 + o.ClipCoef);
                    var pgLoss = pgLoss1.Maximum(pgLoss2).Mean();

                    // Value loss, optionally clipped around the rollout's values.
                    var ret = Tensor.FromArray(mbReturns, [minibatchSize], Device);
                    Tensor vLoss;
                    if (o.ClipVloss)
                    {
                        var oldV = Tensor.FromArray(mbValues, [minibatchSize], Device);
                        var vLossUnclipped = (newvalue - ret).Square();
                        var vClipped = oldV + (newvalue - oldV).Clamp(-o.ClipCoef, o.ClipCoef);
                        var vLossClipped = (vClipped - ret).Square();
                        vLoss = 0.5 * vLossUnclipped.Maximum(vLossClipped).Mean();
                    }
                    else vLoss = 0.5 * (newvalue - ret).Square().Mean();

                    var entropyLoss = entropy.Mean();
                    var loss = pgLoss - o.EntCoef * entropyLoss + vLoss * o.VfCoef;

                    optimizer.ZeroGrad();
                    loss.Backward();
                    if (o.MaxGradNorm is double maxNorm && maxNorm > 0) Clip.GradNorm(parameters, maxNorm);
                    optimizer.Step();

                    // Host reads come last, so a GPU gets the whole step queued before the first wait.
                    // KL estimates (http://joschu.net/blog/kl-approx.html) and clip fraction, for logging and targetKl.
                    {
                        var lr = logratio.ToArray(); double k1 = 0, k3 = 0, cf = 0;
                        for (int k = 0; k < lr.Length; k++)
                        {
                            double ra = Math.Exp(lr[k]);
                            k1 += -lr[k]; k3 += (ra - 1) - lr[k];
                            if (Math.Abs(ra - 1) > o.ClipCoef) cf++;
                        }
                        oldApproxKl = k1 / lr.Length; approxKl = k3 / lr.Length; clipfracs.Add(cf / lr.Length);
                    }
                    pgLossV = pgLoss.Item(); vLossV = vLoss.Item(); entropyV = entropyLoss.Item();
                }
                if (o.TargetKl is double targetKl && approxKl > targetKl) break;
            }

            metrics = new Dictionary<string, double>
            {
                ["policy_loss"] = pgLossV, ["value_loss"] = vLossV, ["entropy"] = entropyV,
                ["old_approx_kl"] = oldApproxKl, ["approx_kl"] = approxKl,
                ["clipfrac"] = clipfracs.Count > 0 ? clipfracs.Average() : 0,
                ["explained_variance"] = ExplainedVariance(values, returns),
            };
            progress?.Invoke(new ProgressInfo(GlobalStep, o.TotalTimesteps, null, null, metrics, optimizer.Lr));
            session.Update = update + 1;
            session.Metrics = metrics;
            boundary?.Invoke(GlobalStep);   // a checkpoint here resumes exactly: the rollout and update are done
        }

        // Freeze the observation statistics (env 0's, as CleanRL's single env) for Act and Save.
        if (envs.Envs[0].Find<NormalizeObservation>() is { } norm)
        {
            _obsRms = new RunningMeanStd(norm.Stats.Dim);
            _obsRms.Set(norm.Stats.Mean, norm.Stats.Var, norm.Stats.Count);
        }
        // Schedule-free optimizers: the saved model and Act use the evaluation point (Eval is a no-op for the others).
        // A stopped run stays at the training point, so its checkpoint resumes exactly; Save moves it.
        if (session.Update > numUpdates) ToEvalPoint();
    }

    private void ToEvalPoint()
    {
        if (_session is { EvalMode: false } s) { s.Optimizer.Eval(); s.EvalMode = true; }
    }

    /// <summary>
    /// GAE(gamma, lambda) over a [numSteps, numEnvs] rollout: dones[t] says the episode ended before obs[t];
    /// nextValue/nextDone are those of the observation after the last step. Writes advantages and returns = A + V.
    /// </summary>
    public static void ComputeGae(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> dones,
        ReadOnlySpan<float> nextValue, ReadOnlySpan<float> nextDone, int numSteps, int numEnvs, double gamma, double gaeLambda,
        Span<float> advantages, Span<float> returns)
    {
        for (int e = 0; e < numEnvs; e++)
        {
            double lastGaeLam = 0;
            for (int t = numSteps - 1; t >= 0; t--)
            {
                double nextNonTerminal, nextValues;
                if (t == numSteps - 1) { nextNonTerminal = 1.0 - nextDone[e]; nextValues = nextValue[e]; }
                else { nextNonTerminal = 1.0 - dones[(t + 1) * numEnvs + e]; nextValues = values[(t + 1) * numEnvs + e]; }
                int i = t * numEnvs + e;
                double delta = rewards[i] + gamma * nextValues * nextNonTerminal - values[i];
                lastGaeLam = delta + gamma * gaeLambda * nextNonTerminal * lastGaeLam;
                advantages[i] = (float)lastGaeLam;
                returns[i] = (float)(lastGaeLam + values[i]);
            }
        }
    }

    // log pi(a|s) and the policy's entropy per row, with gradients.
    private (Tensor LogProb, Tensor Entropy) LogProbAndEntropy(Tensor x, float[] mbActions, int[] mbActionIdx)
    {
        int b = x.Shape[0];
        if (!Continuous)
        {
            var logits = Network.Actor.Forward(x);
            var logp = logits.LogSoftmax(1);
            var newlogprob = logp.Gather(1, mbActionIdx, b, 1).Reshape(b);
            var entropy = -(logp.Exp() * logp).Sum(1);
            return (newlogprob, entropy);
        }
        var (mean, features) = Network.ActorForward(x);
        var a = Tensor.FromArray(mbActions, [b, _actDim], Device);
        if (features is not null) return SdeLogProbAndEntropy(mean, features, Network.ActorLogStd!, a);
        var logstd = Network.ActorLogStd!;
        var z = (a - mean) * (-logstd).Exp();
        var logprob = (-0.5 * z.Square() - logstd - 0.5 * Log2Pi).Sum(1);
        var ent = (logstd + (0.5 + 0.5 * Log2Pi)).Sum(1).Expand(b);
        return (logprob, ent);
    }

    /// <summary>gSDE's variance floor: sigma^2 = f^2 exp(L)^2 + SdeEpsilon (SB3's epsilon).</summary>
    public const double SdeEpsilon = 1e-6;

    /// <summary>
    /// gSDE's log pi(a|s) and entropy per row, with gradients into mean and logStd (not into the features, which are
    /// detached as SB3's learn_features=False): sigma_j = sqrt(sum_i f_i^2 exp(L_ij)^2 + SdeEpsilon), log pi =
    /// sum_j -((a_j - mu_j) / sigma_j)^2 / 2 - log sigma_j - log(2 pi) / 2, entropy = sum_j log sigma_j + (1 + log 2 pi) / 2.
    /// mean and actions are [B, A], features [B, F], logStd [F, A].
    /// </summary>
    public static (Tensor LogProb, Tensor Entropy) SdeLogProbAndEntropy(Tensor mean, Tensor features, Tensor logStd, Tensor actions)
    {
        var variance = features.Detach().Square().MatMul(logStd.Exp().Square()) + SdeEpsilon;
        var logSigma = 0.5 * variance.Log();
        var z = (actions - mean) * (-logSigma).Exp();
        var logprob = (-0.5 * z.Square() - logSigma - 0.5 * Log2Pi).Sum(1);
        var entropy = (logSigma + (0.5 + 0.5 * Log2Pi)).Sum(1);
        return (logprob, entropy);
    }

    // gSDE: one noise matrix per env, M_ij = exp(L_ij) * N(0, 1) from the training generator, env after env, row-major.
    private float[] SampleSdeNoise(int numEnvs)
    {
        var logstd = Network.ActorLogStd!.ToArray();
        var m = new float[numEnvs * logstd.Length];
        for (int e = 0; e < numEnvs; e++)
            for (int k = 0; k < logstd.Length; k++)
                m[e * logstd.Length + k] = (float)(Math.Exp(logstd[k]) * _rng.NextNormal());
        return m;
    }

    // SB3's time-out bootstrap: each env whose episode was truncated (not terminated) on this step gets
    // rewards[e] += gamma * V(its true last observation), all such envs in one forward pass.
    private void AddTimeoutValues(SyncVectorEnv envs, VectorStepResult r, Span<float> rewards, double gamma)
    {
        var cut = Enumerable.Range(0, envs.NumEnvs).Where(e => r.Truncated[e] && !r.Terminated[e]).ToArray();
        if (cut.Length == 0) return;
        var finalObs = new float[cut.Length * _obsDim];
        for (int k = 0; k < cut.Length; k++)
            (envs.FinalObservations[cut[k]] ?? throw new InvalidOperationException("ppo: a truncated env has no final observation (the vector env must autoreset on the same step)"))
                .CopyTo(finalObs, k * _obsDim);
        var v = new float[cut.Length];
        ValuesOf(finalObs, cut.Length, v);
        for (int k = 0; k < cut.Length; k++) rewards[cut[k]] = (float)(rewards[cut[k]] + gamma * v[k]);
    }

    // Samples one action per env (under NoGrad) and records its log-prob and V(s); gSDE: with env e's noise matrix.
    private void SampleActions(float[] obsBatch, int n, float[] actionsOut, float[] logprobOut, float[] valueOut, float[] sdeNoise)
    {
        using var _ = Tensor.NoGrad();
        using var memory = Tensor.Scope();
        var x = Tensor.FromArray(obsBatch, [n, _obsDim], Device);
        var (headT, featuresT) = Network.ActorForward(x);
        var head = headT.ToArray();
        Network.Value(x).ToArray().CopyTo(valueOut, 0);
        if (featuresT is not null)
        {
            var f = featuresT.ToArray();
            var sdeLogStd = Network.ActorLogStd!.ToArray();
            int nf = Network.SdeFeatures, stride = nf * _actDim;
            for (int e = 0; e < n; e++)
                logprobOut[e] = (float)SampleSde(head.AsSpan(e * _actDim, _actDim), f.AsSpan(e * nf, nf), sdeLogStd,
                    sdeNoise.AsSpan(e * stride, stride), actionsOut.AsSpan(e * _actDim, _actDim));
            return;
        }
        if (!Continuous)
        {
            int na = _numActions;
            for (int e = 0; e < n; e++)
            {
                actionsOut[e] = SampleCategorical(head.AsSpan(e * na, na), _rng, out double lp);
                logprobOut[e] = (float)lp;
            }
            return;
        }
        var logstd = Network.ActorLogStd!.ToArray();
        for (int e = 0; e < n; e++)
            logprobOut[e] = (float)SampleGaussian(head.AsSpan(e * _actDim, _actDim), logstd, _rng, actionsOut.AsSpan(e * _actDim, _actDim));
    }

    /// <summary>An action of Categorical(logits) by inverse-CDF sampling: log Z = logsumexp(logits) in double, then the
    /// first k with u &lt; sum_{i&lt;=k} exp(logits_i - log Z), u ~ U[0, 1) from rng; logProb = logits_a - log Z.</summary>
    private static int SampleCategorical(ReadOnlySpan<float> logits, Rng rng, out double logProb)
    {
        int na = logits.Length;
        double max = double.NegativeInfinity;
        for (int k = 0; k < na; k++) max = Math.Max(max, logits[k]);
        double sum = 0;
        for (int k = 0; k < na; k++) sum += Math.Exp(logits[k] - max);
        double logZ = max + Math.Log(sum);
        double u = rng.NextDouble(), cdf = 0;
        int a = na - 1;
        for (int k = 0; k < na; k++)
        {
            cdf += Math.Exp(logits[k] - logZ);
            if (u < cdf) { a = k; break; }
        }
        logProb = logits[a] - logZ;
        return a;
    }

    /// <summary>An action of the diagonal Gaussian N(mean, exp(logstd)^2), a_j = mean_j + exp(logstd_j) * z_j with z_j ~
    /// N(0, 1) from rng, into action; returns log pi(a) = sum_j -z_j^2 / 2 - logstd_j - log(2 pi) / 2 (z of the float action).</summary>
    private static double SampleGaussian(ReadOnlySpan<float> mean, float[] logstd, Rng rng, Span<float> action)
    {
        double lp = 0;
        for (int j = 0; j < mean.Length; j++)
        {
            double noise = rng.NextNormal();
            float a = (float)(mean[j] + Math.Exp(logstd[j]) * noise);
            action[j] = a;
            double zz = (a - mean[j]) / Math.Exp(logstd[j]);
            lp += -0.5 * zz * zz - logstd[j] - 0.5 * Log2Pi;
        }
        return lp;
    }

    /// <summary>gSDE's action for one state, a_j = mean_j + sum_i f_i M_ij (float), into action; noise: the matrix M
    /// [F, A] row-major, or null to draw a_j ~ N(mean_j, sigma_j^2) from rng instead (a fresh matrix each call has that
    /// law). Returns log pi(a) under N(mean, sigma^2), sigma_j = sqrt(sum_i f_i^2 exp(L_ij)^2 + SdeEpsilon), in double.</summary>
    private static double SampleSde(ReadOnlySpan<float> mean, ReadOnlySpan<float> features, float[] logstd, ReadOnlySpan<float> noise,
                                    Span<float> action, Rng? rng = null)
    {
        int na = mean.Length;
        double lp = 0;
        for (int j = 0; j < na; j++)
        {
            double variance = SdeEpsilon, n = 0;
            for (int i = 0; i < features.Length; i++)
            {
                double s = Math.Exp(logstd[i * na + j]);
                variance += (double)features[i] * features[i] * s * s;
                if (rng is null) n += (double)features[i] * noise[i * na + j];
            }
            double sigma = Math.Sqrt(variance);
            if (rng is not null) n = sigma * rng.NextNormal();
            float a = (float)(mean[j] + n);
            action[j] = a;
            double zz = (a - mean[j]) / sigma;
            lp += -0.5 * zz * zz - Math.Log(sigma) - 0.5 * Log2Pi;
        }
        return lp;
    }

    private void ValuesOf(float[] obsBatch, int n, float[] valueOut)
    {
        using var _ = Tensor.NoGrad();
        using var memory = Tensor.Scope();
        Network.Value(Tensor.FromArray(obsBatch, [n, _obsDim], Device)).ToArray().CopyTo(valueOut, 0);
    }

    private static void NormalizeInPlace(float[] a)
    {
        double mean = 0; foreach (var v in a) mean += v; mean /= a.Length;
        double var = 0; foreach (var v in a) var += (v - mean) * (v - mean);
        double std = Math.Sqrt(var / Math.Max(1, a.Length - 1));   // torch's .std() is unbiased
        for (int i = 0; i < a.Length; i++) a[i] = (float)((a[i] - mean) / (std + 1e-8));
    }

    private static double ExplainedVariance(float[] yPred, float[] yTrue)
    {
        double mt = yTrue.Average(v => (double)v), md = 0;
        double vt = yTrue.Sum(v => (v - mt) * (v - mt)) / yTrue.Length;
        var diff = new double[yTrue.Length];
        for (int i = 0; i < diff.Length; i++) { diff[i] = yTrue[i] - yPred[i]; md += diff[i]; }
        md /= diff.Length;
        double vd = diff.Sum(d => (d - md) * (d - md)) / diff.Length;
        return vt == 0 ? double.NaN : 1 - vd / vt;
    }

    /// <summary>Deterministic action: argmax of the logits (as [index]) or the Gaussian mean (normalised obs if trained so).</summary>
    public float[] Act(ReadOnlySpan<float> observation) => Act(observation, deterministic: true);

    /// <summary>
    /// An action for one observation (normalised first if the run normalised observations). Deterministic: the argmax
    /// of the logits (as [index]) or the Gaussian's mean. Stochastic: a draw from the policy, Categorical(softmax(logits))
    /// or N(mean, exp(logstd)^2) (gSDE: N(mean, sigma(s)^2), the law of mean + f(s) M over noise matrices M), with rng
    /// (null: <see cref="ActionRng"/>), so a seeded rng gives the same actions.
    /// Continuous actions are clipped to the action space, as training's ClipAction clipped what the env received.
    /// </summary>
    public float[] Act(ReadOnlySpan<float> observation, bool deterministic, Rng? rng = null)
    {
        if (observation.Length != _obsDim) throw new ArgumentException($"ppo.Act: expected {_obsDim} observation values, got {observation.Length}");
        var x = observation.ToArray();
        if (_obsRms is { } rms)
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)Math.Clamp((x[i] - rms.Mean[i]) / Math.Sqrt(rms.Var[i] + 1e-8), -Options.NormClip, Options.NormClip);
        float[] head, features = [];
        using (Tensor.NoGrad())
        {
            var (h, f) = Network.ActorForward(Tensor.FromArray(x, [1, _obsDim], Device));
            head = h.ToArray();
            if (f is not null) features = f.ToArray();
        }
        if (!Continuous)
        {
            if (!deterministic) return [SampleCategorical(head, rng ?? ActionRng, out _)];
            int best = 0;
            for (int k = 1; k < head.Length; k++) if (head[k] > head[best]) best = k;
            return [best];
        }
        if (!deterministic && Network.SdeFeatures > 0) SampleSde(head.ToArray(), features, Network.ActorLogStd!.ToArray(), default, head, rng ?? ActionRng);
        else if (!deterministic) SampleGaussian(head.ToArray(), Network.ActorLogStd!.ToArray(), rng ?? ActionRng, head);
        // Clipped to the action space, as training's ClipAction stepped the env with it (an env that charges the
        // unclipped action, MountainCarContinuous's a^2, would otherwise score a good mean policy badly).
        for (int i = 0; i < head.Length; i++) head[i] = Math.Clamp(head[i], _actLow[i], _actHigh[i]);
        return head;
    }

    /// <summary>DIR/model.safetensors (actor.*, critic.*, actor_logstd) and DIR/config.json; the parameters of a
    /// schedule-free optimizer's run are moved to its evaluation point first.</summary>
    public void Save(string dir)
    {
        ToEvalPoint();
        Write(dir);
    }

    /// <inheritdoc/>
    public void SaveCheckpoint(string dir)
    {
        var s = _session ??= NewSession(reset: true);
        if (s.EvalMode) { s.Optimizer.Train(); s.EvalMode = false; }   // a finished schedule-free run: back to y (rounds)
        Write(dir);
        var w = new CheckpointWriter();
        w.Json["algorithm"] = Algorithm;
        w.Json["global_step"] = GlobalStep;
        w.Json["update"] = s.Update;
        w.Json["rng"] = StateJson.Rng(_rng);
        w.Json["envs"] = s.Envs.SaveState();
        w.Json["next_obs"] = StateJson.Nums(s.NextObs);
        w.Json["next_done"] = StateJson.Nums(s.NextDone);
        var metrics = new JsonObject();
        foreach (var (k, v) in s.Metrics) metrics[k] = StateJson.Num(v);
        w.Json["metrics"] = metrics;
        w.Json["indices"] = StateJson.Ints(s.Indices);
        w.Add("optimizer", s.Optimizer);
        w.Save(dir);
    }

    /// <inheritdoc/>
    public void LoadCheckpoint(string dir)
    {
        var r = CheckpointReader.Open(dir);
        var j = r.Json;
        if (j["algorithm"]?.GetValue<string>() != Algorithm) throw new InvalidDataException($"{dir}: the checkpoint is not a ppo one");
        var s = NewSession(reset: false);
        s.Envs.LoadState(StateJson.Object(j, "envs"));
        var nextObs = StateJson.Floats(j, "next_obs");
        var nextDone = StateJson.Floats(j, "next_done");
        if (nextObs.Length != s.NextObs.Length || nextDone.Length != s.NextDone.Length)
            throw new InvalidDataException($"{dir}: the checkpoint holds {nextDone.Length} envs' observations, this run has {s.NextDone.Length} envs");
        nextObs.CopyTo(s.NextObs, 0);
        nextDone.CopyTo(s.NextDone, 0);
        s.Update = StateJson.Long(j, "update");
        var m = StateJson.Object(j, "metrics");
        s.Metrics = m.ToDictionary(kv => kv.Key, kv => StateJson.Double(m, kv.Key));
        var indices = StateJson.IntArray(j, "indices");
        if (indices.Length != s.Indices.Length || indices.Any(i => (uint)i >= (uint)indices.Length))
            throw new InvalidDataException($"{dir}: the checkpoint's minibatch order has {indices.Length} entries, this run's batch {s.Indices.Length}");
        indices.CopyTo(s.Indices, 0);
        r.Load("optimizer", s.Optimizer);
        _rng.State = StateJson.ReadRng(j, "rng").State;
        GlobalStep = StateJson.Long(j, "global_step");
        _session = s;
    }

    private void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        Network.Save(Path.Combine(dir, "model.safetensors"));
        var config = new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["envId"] = EnvId,
            ["options"] = JsonSerializer.SerializeToNode(Options, JsonOpts),
            ["optimizer"] = OptimizerSpec.ToJson(),
            ["global_step"] = GlobalStep,
        };
        config.WithSources(EnvId, Options.Net);
        if (_obsRms is { } rms)
            config["obs_rms"] = new JsonObject
            {
                ["mean"] = new JsonArray(rms.Mean.Select(v => (JsonNode?)v).ToArray()),
                ["var"] = new JsonArray(rms.Var.Select(v => (JsonNode?)v).ToArray()),
                ["count"] = rms.Count,
            };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The JSON naming of options (camelCase, as config.json and --config files use).</summary>
    public static readonly JsonSerializerOptions JsonOpts = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    /// <summary>Loads what <see cref="Save"/> wrote; network: the factory a run with net "custom" was built with
    /// (a registered network is found by the name config.json records).</summary>
    public static Ppo Load(string dir, Func<NetworkContext, Module>? network = null)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))
            ?? throw new InvalidDataException($"{dir}/config.json is empty");
        var options = config["options"].Deserialize<PpoOptions>(JsonOpts) ?? throw new InvalidDataException($"{dir}/config.json: no options");
        var spec = config["optimizer"] is JsonNode n ? OptimizerSpec.FromJson(n) : null;
        // The env: "envId" (runs before it was an argument wrote "env_id" beside the options' "envId").
        string envId = Agents.ConfigEnvId(config) ?? throw new InvalidDataException($"{dir}/config.json names no env (\"envId\")");
        var agent = new Ppo(envId, options, spec, Agents.ConfigNetwork(options.Net, network, dir));
        agent.Network.Load(Path.Combine(dir, "model.safetensors"));
        agent.GlobalStep = config["global_step"]?.GetValue<long>() ?? 0;
        if (config["obs_rms"] is JsonObject r)
        {
            var mean = r["mean"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var var = r["var"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            agent._obsRms = new RunningMeanStd(mean.Length);
            agent._obsRms.Set(mean, var, r["count"]!.GetValue<double>());
        }
        return agent;
    }
}

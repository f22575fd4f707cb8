// CustomPolicy: your own network in Tiny's agents: any Module mapping [batch, ctx.InputSize] to [batch, ctx.OutputSize].
// PPO takes a factory in code; DQN a registered one (config.json records its name, so loading rebuilds it); TD3 too.
using CustomPolicyExample;
using Tiny;
using Tiny.Nn;
using Tiny.Rl;

long steps = args.Length > 0 ? long.Parse(args[0]) : 100_000;   // PPO's budget; DQN and TD3 get less
string dir = args.Length > 1 ? args[1] : Path.Combine("runs", "dqn-residual");

// 1. PPO on CartPole: the factory is called for the critic, then the actor (ctx.Role), each sized by ctx.
var ppo = new Ppo("CartPole-v1", new PpoOptions { TotalTimesteps = steps }, network: ctx => new ResidualMlp(ctx.InputSize, 64, ctx.OutputSize, ctx.Rng));
Report("ppo", ppo, ppo.Network.Actor);
var obs = new float[] { 0.01f, 0.02f, -0.03f, 0.04f };
var rng = new Rng(0);   // stochastic actions draw from it: the same seed, the same actions
Console.WriteLine($"ppo: greedy action {ppo.Act(obs)[0]}, sampled {string.Join(" ", Enumerable.Range(0, 8).Select(_ => ppo.Act(obs, deterministic: false, rng)[0]))}");

// 2. DQN with a registered network: `tiny train dqn --net residual --assembly ...` names it the same way.
Networks.Register("residual", ctx => new ResidualMlp(ctx.InputSize, 64, ctx.OutputSize, ctx.Rng));
var dqn = new Dqn("CartPole-v1", new DqnOptions { Net = "residual", TotalTimesteps = steps / 2, LearningStarts = 1000, ExplorationFraction = 0.2 });
Report("dqn", dqn, dqn.QNetwork);
dqn.Save(dir);
var loaded = (Dqn)Agents.Load(dir);   // rebuilt by the registered factory, weights loaded
Console.WriteLine($"dqn: reloaded {loaded.QNetwork.GetType().Name} from {dir} acts the same: {loaded.Act(obs)[0] == dqn.Act(obs)[0]}");

// 3. TD3 on Pendulum: the actor (ctx.Role "actor") and both critics (inputs obs ++ action) of the same type.
var td3 = new Td3("Pendulum-v1", new Td3Options { TotalTimesteps = steps / 10, LearningStarts = 1000, BufferSize = 10_000 }, network: ctx => new ResidualMlp(ctx.InputSize, 64, ctx.OutputSize, ctx.Rng));
Report("td3", td3, td3.Actor);

static void Report(string name, IAgent agent, Module net)
{
    var before = agent.NamedParameters().Select(p => p.Value.ToArray()).ToList();
    agent.Train();
    var after = agent.NamedParameters().Select(p => p.Value.ToArray()).ToList();
    int moved = after.Where((a, i) => !a.SequenceEqual(before[i])).Count();
    double ret = OffPolicy.Evaluate(agent, agent.EnvId, episodes: 10, seed: 100).Average();
    Console.WriteLine($"{name}: {net.GetType().Name} ({net.ParameterCount} parameters), {moved} of {after.Count} tensors trained, greedy return {ret:F1}");
}

namespace CustomPolicyExample
{
    /// <summary>x -> h = relu(W1 x) -> h + relu(W2 h) -> W3: a residual MLP, written as code (its own Forward).</summary>
    public sealed class ResidualMlp : Module
    {
        private readonly Linear _in, _hidden, _out;

        public ResidualMlp(int inputs, int width, int outputs, Rng rng)
        {
            _in = RegisterModule("in", new Linear(inputs, width, rng));
            _hidden = RegisterModule("hidden", new Linear(width, width, rng));
            _out = RegisterModule("out", new Linear(width, outputs, rng));
        }

        public override Tensor Forward(Tensor x)
        {
            var h = _in.Forward(x).Relu();
            return _out.Forward(h + _hidden.Forward(h).Relu());
        }
    }
}

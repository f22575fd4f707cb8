// CustomEnv: your own environment: subclass Env, register it from an ITinyPlugin (so `tiny eval RUN` finds it again,
// config.json names this assembly), train PPO on it, save the run, load it back and evaluate it.
using System.Text.Json.Nodes;
using CustomEnvExample;
using Tiny.Rl;

long steps = args.Length > 0 ? long.Parse(args[0]) : 30_000;
string dir = args.Length > 1 ? args[1] : Path.Combine("runs", "ppo-SlipperyCorridor-v0");

Plugins.Load(typeof(MyEnvs).Assembly);   // runs MyEnvs.Register (once per process); tiny does this for --assembly
var agent = Agents.Create("ppo", SlipperyCorridor.EnvId, new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64 }, null, seed: 1, totalSteps: steps);
agent.Train(p => { if (p.EpisodicReturn is null && p.GlobalStep % 5120 == 0) Console.WriteLine($"step {p.GlobalStep}: entropy {p.Metrics["entropy"]:F3}"); });
agent.Save(dir);

var loaded = Agents.Load(dir);   // what tiny eval does, after loading the assemblies config.json names
double mean = OffPolicy.Evaluate(loaded, SlipperyCorridor.EnvId, episodes: 50, seed: 1000).Average();
Console.WriteLine($"eval: mean return {mean:F3} over 50 episodes (the best, always right: {SlipperyCorridor.Expected:F2}; random: below 0)");
Console.WriteLine($"saved to {dir}; from the command line: tiny eval {dir}");

namespace CustomEnvExample
{
    /// <summary>The plugin: what tiny's --assembly (and a run's config.json) loads.</summary>
    public sealed class MyEnvs : ITinyPlugin
    {
        public void Register() => Env.Register(SlipperyCorridor.EnvId, () => new SlipperyCorridor(), maxEpisodeSteps: 40);
    }

    /// <summary>
    /// Cells 0..7 from 0 to the goal at 7: action 0 steps left, 1 right, but one step in five slips the other way (the
    /// env's generator); reward 1 at the goal (terminated), else -0.05; the observation is [cell / 7].
    /// </summary>
    public sealed class SlipperyCorridor() : Env(EnvId)
    {
        public const string EnvId = "SlipperyCorridor-v0";
        public const int Goal = 7;
        /// <summary>The mean return of the best policy, always right (simulated, 200k episodes).</summary>
        public const double Expected = 0.49;
        private static readonly Box Obs = new(0f, 1f, 1);
        private static readonly Discrete Act = new(2);
        private int _cell;

        public override Space ObservationSpace => Obs;
        public override Space ActionSpace => Act;

        public override float[] Reset(int? seed = null)
        {
            Reseed(seed);   // a seed restarts the env's generator, as Gymnasium's reset(seed=...)
            _cell = 0;
            return [0f];
        }

        public override StepResult Step(int action)
        {
            if (!Act.Contains(action)) throw new ArgumentException($"{Id}: action {action} is not in {Act}");
            int move = action == 1 ? 1 : -1;
            if (Rng.NextDouble() < 0.2) move = -move;
            _cell = Math.Clamp(_cell + move, 0, Goal);
            bool done = _cell == Goal;
            return new StepResult([_cell / (float)Goal], done ? 1.0 : -0.05, done, false);
        }

        // What a checkpoint saves and restores (tiny train --checkpoint-every, --resume); the generator is saved by Env.
        protected override void WriteState(JsonObject state) => state["cell"] = _cell;
        protected override void ReadState(JsonObject state) => _cell = state["cell"]!.GetValue<int>();
    }
}

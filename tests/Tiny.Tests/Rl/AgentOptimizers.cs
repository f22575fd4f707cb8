// AgentOptimizers: the optimizer specs the agent smoke tests run, so every registered optimizer trains every agent.
namespace Tiny.Tests.Rl;

internal static class AgentOptimizers
{
    /// <summary>Hand-picked settings, then every other registered optimizer with its defaults.</summary>
    public static string[] WithEveryRegistered(params string[] hand) =>
        [.. hand, .. Tiny.Optim.Optimizers.Names.Where(n => !hand.Any(h => h.Split(':')[0] == n))];
}

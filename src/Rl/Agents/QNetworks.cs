// QNetworks: the one place where an agent's network kind is chosen: "mlp" (Linear layers on the flat observation) or
// "cnn" (MinAtar's: Conv2d(C->16, 3x3, stride 1) -> ReLU -> Flatten -> Linear -> ReLU ... -> Linear), selected
// automatically for a 3-D [C, H, W] observation space, or a registered network's name (Networks).
using Tiny.Nn;

namespace Tiny.Rl;

/// <summary>Builds Q-networks (and torsos) as an MLP or a CNN from the observation space.</summary>
public static class QNetworks
{
    /// <summary>The network kinds an options record's Net may name ("auto" = cnn for [C, H, W] observations, else mlp).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["auto", "mlp", "cnn"];

    /// <summary>Channels of the CNN's one conv layer (MinAtar's 16).</summary>
    public const int ConvChannels = 16;

    /// <summary>"auto"/null -> "cnn" when obsSpace is a 3-D Box, else "mlp"; "cnn" on a non-image space throws; the name
    /// of a network registered with <see cref="Networks.Register"/> is returned as is; any other name throws.</summary>
    public static string Resolve(string? net, Space obsSpace, string envId)
    {
        if (net is not null && Networks.IsRegistered(net)) return net;
        string kind = (net ?? "auto").ToLowerInvariant();
        if (!Kinds.Contains(kind)) throw new ArgumentException(Networks.UnknownMessage(net));
        bool image = obsSpace is Box { Shape.Length: 3 };
        if (kind == "auto") return image ? "cnn" : "mlp";
        if (kind == "cnn" && !image)
            throw new ArgumentException($"net 'cnn' needs a 3-D [C, H, W] observation space; {envId} has {obsSpace}");
        return kind;
    }

    /// <summary>
    /// obs (flat rows [N, obsDim]) -> [N, numActions]. mlp: obsDim -> hiddenSizes... -> numActions, ReLU between.
    /// cnn: [N, C, H, W] -> Conv2d(C->16, 3x3) -> ReLU -> Flatten -> hiddenSizes... (ReLU) -> numActions.
    /// </summary>
    public static Sequential Create(string kind, Box obsSpace, int numActions, int[] hiddenSizes, Rng rng)
    {
        if (kind == "mlp") return Mlp.Create([obsSpace.Dim, .. hiddenSizes, numActions], () => new ReLU(), rng);
        if (kind != "cnn") throw new ArgumentException($"net '{kind}' is unknown; known: mlp, cnn");
        var s = obsSpace.Shape;
        if (s.Length != 3 || s[1] < 3 || s[2] < 3) throw new ArgumentException($"net 'cnn' needs a [C, H, W] observation space with H, W >= 3, got {obsSpace}");
        var net = new Sequential(new Unflatten(s[0], s[1], s[2]), new Conv2d(s[0], ConvChannels, 3, rng, stride: 1), new ReLU(), new Flatten());
        int flat = ConvChannels * (s[1] - 2) * (s[2] - 2);
        int[] sizes = [flat, .. hiddenSizes, numActions];
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            net.Add(new Linear(sizes[i], sizes[i + 1], rng));
            if (i + 2 < sizes.Length) net.Add(new ReLU());
        }
        return net;
    }

    /// <summary>Reshapes flat rows [N, C*H*W] to images [N, C, H, W] (no parameters).</summary>
    public sealed class Unflatten(int c, int h, int w) : Module
    {
        /// <inheritdoc/>
        public override Tensor Forward(Tensor x) => x.Reshape(x.Shape[0], c, h, w);

        /// <summary>The image shape [C, H, W] each row becomes.</summary>
        public int[] Shape => [c, h, w];
    }
}

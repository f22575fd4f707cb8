// OnnxExport: a trained agent's deterministic policy as an ONNX model (opset 13) that any ONNX runtime can serve:
// observation in; PPO's logits or mean action, DQN's Q-values or TD3's action out, PPO's observation normalisation
// folded in, so the model computes what IAgent.Act computes before its argmax.
using System.Globalization;
using Tiny.Nn;
using Tiny.Rl.Onnx;

namespace Tiny.Rl;

/// <summary>
/// Writes an agent's policy as an ONNX model: one input "obs" (float32, [batch, ...observation shape], the batch
/// dimension symbolic) and one output: "logits" [batch, actions] (PPO, discrete: the greedy action is their argmax),
/// "q_values" [batch, actions] (DQN: likewise), or "action" [batch, action dim] (PPO, continuous: the Gaussian's mean,
/// the observation first normalised as <see cref="Ppo.Act(ReadOnlySpan{float})"/> does when the run normalised observations; TD3:
/// tanh(actor(obs)) * scale + bias). Layers: Linear (Gemm), Conv2d (Conv), ReLU, Tanh, Sigmoid, Flatten and the CNN's
/// Unflatten (Reshape); ops of opset 13 only.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the model imports (ai.onnx 13: Clip takes its bounds as inputs).</summary>
    public const int Opset = 13;

    /// <summary>The ONNX IR version written (7, the IR of ONNX 1.8, which introduced opset 13).</summary>
    public const long IrVersion = 7;

    /// <summary>The name of the model's input.</summary>
    public const string InputName = "obs";

    /// <summary>The name of the symbolic batch dimension of the input and the output.</summary>
    public const string BatchDim = "batch";

    /// <summary>The epsilon under the square root of the observation normalisation, as <see cref="Ppo.Act(ReadOnlySpan{float})"/> and
    /// Gymnasium's NormalizeObservation use.</summary>
    public const double ObsEpsilon = 1e-8;

    /// <summary>The model's output name for agent: "logits", "q_values" or "action".</summary>
    public static string OutputName(IAgent agent) => agent switch
    {
        Ppo { Continuous: true } => "action",
        Ppo => "logits",
        Dqn => "q_values",
        Td3 => "action",
        null => throw new ArgumentNullException(nameof(agent)),
        _ => throw new NotSupportedException($"ONNX export knows ppo, dqn and td3, not {agent.Algorithm}"),
    };

    /// <summary>Writes agent's policy to path (the folder is created; an existing file is replaced whole: the bytes go
    /// to a temporary file beside it, which is then renamed).</summary>
    public static void Export(IAgent agent, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(agent);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"{path} is a folder, not a file name");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = $"{full}.tmp-{Environment.ProcessId}";
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>agent's policy as the bytes of an ONNX ModelProto.</summary>
    public static byte[] ToBytes(IAgent agent) => Build(agent).ToByteArray();

    /// <summary>One line describing the model: "obs [batch, 4] -> logits [batch, 2]".</summary>
    public static string Describe(IAgent agent)
    {
        var (obsShape, outDim) = Shapes(agent);
        return $"{InputName} [{BatchDim}, {string.Join(", ", obsShape)}] -> {OutputName(agent)} [{BatchDim}, {outDim}]";
    }

    private static (int[] ObsShape, int OutDim) Shapes(IAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        using var env = Env.Make(agent.EnvId);
        var obs = env.ObservationSpace as Box ?? throw new NotSupportedException($"ONNX export needs a Box observation space; {agent.EnvId} has {env.ObservationSpace}");
        int outDim = env.ActionSpace switch
        {
            Discrete d => d.N,
            Box b => b.Dim,
            var s => throw new NotSupportedException($"ONNX export: unsupported action space {s} of {agent.EnvId}"),
        };
        return (obs.Shape, outDim);
    }

    private static ModelProto Build(IAgent agent)
    {
        string output = OutputName(agent);
        var (obsShape, outDim) = Shapes(agent);
        var g = new GraphBuilder();
        string x = g.Input(InputName, obsShape);
        // The networks take flat rows, as Act hands them the observation; an image [C, H, W] is flattened here (the CNN's
        // Unflatten then reshapes it back), so the model takes observations in the env's own shape.
        if (obsShape.Length > 1) x = g.Node("Flatten", "flatten_obs", [x], AttributeProto.OfInt("axis", 1));
        string doc;
        switch (agent)
        {
            case Ppo ppo:
                if (ppo.ObservationStats is { } rms) x = Normalize(g, x, rms, ppo.Options.NormClip);
                x = g.Module(ppo.Network.Actor, x, "actor");
                if (ppo.Continuous)
                {
                    // min(max(mean, low), high) per element, as Ppo.Act (opset 13's Clip takes only scalar bounds).
                    using var env = Env.Make(ppo.EnvId);
                    var box = (Box)env.ActionSpace;
                    x = g.Node("Max", "action_low_max", [x, g.Constant("action_low", box.Low, box.Dim)]);
                    x = g.Node("Min", "action_high_min", [x, g.Constant("action_high", box.High, box.Dim)]);
                }
                doc = ppo.Continuous
                    ? "the Gaussian policy's mean action clipped to the action space (the deterministic action, as Act)"
                    : "the Categorical policy's logits; the greedy action is their argmax";
                if (ppo.ObservationStats is not null) doc += "; the observation is normalised inside the model with the run's frozen statistics";
                break;
            case Dqn dqn:
                x = g.Module(dqn.QNetwork, x, "q");
                doc = "Q-values of each action; the greedy action is their argmax";
                break;
            case Td3 td3:
            {
                x = g.Module(td3.Actor, x, "actor");
                // mu(s) = tanh(actor(s)) * scale + bias, scale and bias from the action bounds exactly as Td3 computes them.
                using var env = Env.Make(td3.EnvId);
                var box = (Box)env.ActionSpace;
                var scale = new float[box.Dim];
                var bias = new float[box.Dim];
                for (int i = 0; i < box.Dim; i++) { scale[i] = (box.High[i] - box.Low[i]) / 2f; bias[i] = (box.High[i] + box.Low[i]) / 2f; }
                x = g.Node("Tanh", "actor_tanh", [x]);
                x = g.Node("Mul", "action_scale_mul", [x, g.Constant("action_scale", scale, box.Dim)]);
                x = g.Node("Add", "action_bias_add", [x, g.Constant("action_bias", bias, box.Dim)]);
                doc = "the deterministic action tanh(actor(obs)) * scale + bias, within the action bounds";
                break;
            }
            default:
                throw new NotSupportedException($"ONNX export knows ppo, dqn and td3, not {agent.Algorithm}");
        }
        g.Output(x, output, outDim);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Tiny",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "",
            DocString = $"{agent.Algorithm} on {agent.EnvId} after {agent.GlobalStep} env steps: {Describe(agent)}, {doc}.",
            Graph = g.Finish($"{agent.Algorithm}_{agent.EnvId.Replace('/', '_')}_policy"),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in new[] { ("algorithm", agent.Algorithm), ("env_id", agent.EnvId), ("global_step", agent.GlobalStep.ToString(CultureInfo.InvariantCulture)), ("output", output) })
            model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    // clip((obs - mean) / sqrt(var + eps), -clip, clip), as Ppo.Act. sqrt(var + eps) is computed here in double (Act's
    // precision) and stored as float; the subtraction and division run in float32.
    private static string Normalize(GraphBuilder g, string x, RunningMeanStd rms, double clip)
    {
        var mean = rms.Mean.Select(m => (float)m).ToArray();
        var std = rms.Var.Select(v => (float)Math.Sqrt(v + ObsEpsilon)).ToArray();
        x = g.Node("Sub", "obs_rms_sub", [x, g.Constant("obs_rms.mean", mean, mean.Length)]);
        x = g.Node("Div", "obs_rms_div", [x, g.Constant("obs_rms.std", std, std.Length)]);
        return g.Node("Clip", "obs_rms_clip", [x, g.Constant("obs_rms.clip_min", [(float)-clip]), g.Constant("obs_rms.clip_max", [(float)clip])]);
    }

    /// <summary>Collects the nodes, constants, input and output of one graph; each value is named after the node
    /// that computes it, each weight after its parameter (actor.0.weight, as model.safetensors names it).</summary>
    private sealed class GraphBuilder
    {
        private readonly List<NodeProto> _nodes = [];
        private readonly List<TensorProto> _initializers = [];
        private readonly List<ValueInfoProto> _inputs = [], _outputs = [];
        private readonly HashSet<string> _names = [];

        public string Input(string name, int[] shape)
        {
            _inputs.Add(new ValueInfoProto { Name = Unique(name), Shape = [BatchDim, .. shape.Select(d => (object)(long)d)] });
            return name;
        }

        /// <summary>The value x becomes the graph output name: the node computing it is renamed.</summary>
        public void Output(string x, string name, int dim)
        {
            if (_nodes.Count == 0 || _nodes[^1].Output[0] != x) x = Node("Identity", name + "_identity", [x]);
            _names.Remove(x);
            _nodes[^1].Output[0] = Unique(name);
            _outputs.Add(new ValueInfoProto { Name = name, Shape = [BatchDim, (long)dim] });
        }

        public GraphProto Finish(string name)
        {
            var graph = new GraphProto { Name = name };
            graph.Node.AddRange(_nodes);
            graph.Initializer.AddRange(_initializers);
            graph.Input.AddRange(_inputs);
            graph.Output.AddRange(_outputs);
            return graph;
        }

        /// <summary>A node op(inputs) named name (made unique); returns its output value.</summary>
        public string Node(string op, string name, string[] inputs, params AttributeProto[] attributes)
        {
            string value = Unique(name);
            var node = new NodeProto { Name = value, OpType = op };
            node.Input.AddRange(inputs);
            node.Output.Add(value);
            node.Attribute.AddRange(attributes);
            _nodes.Add(node);
            return value;
        }

        /// <summary>A float32 constant of the given dims (none: a scalar).</summary>
        public string Constant(string name, float[] data, params long[] dims)
        {
            name = Unique(name);
            _initializers.Add(TensorProto.OfFloats(name, data, dims));
            return name;
        }

        private string Constant(string name, long[] data)
        {
            name = Unique(name);
            _initializers.Add(TensorProto.OfInt64s(name, data, data.Length));
            return name;
        }

        private static string Constant(GraphBuilder g, string name, Tensor t) =>
            g.Constant(name, t.ToArray(), t.Shape.ToArray().Select(d => (long)d).ToArray());

        /// <summary>The nodes of module m applied to x; path names its nodes and weights ("actor", then "actor.0").</summary>
        public string Module(Module m, string x, string path)
        {
            switch (m)
            {
                case Sequential s:
                    for (int i = 0; i < s.Count; i++) x = Module(s[i], x, $"{path}.{i}");
                    return x;
                case Linear l:
                    // Gemm(A, B, C, transB=1) = A B^T + C: Linear's x W^T + b with W stored [out, in] as Tiny keeps it.
                    return Node("Gemm", path, [x, Constant(this, path + ".weight", l.Weight), .. l.Bias is { } b ? [Constant(this, path + ".bias", b)] : Array.Empty<string>()],
                                AttributeProto.OfInt("transB", 1));
                case Conv2d c:
                    return Node("Conv", path, [x, Constant(this, path + ".weight", c.Weight), .. c.Bias is { } cb ? [Constant(this, path + ".bias", cb)] : Array.Empty<string>()],
                                AttributeProto.OfInts("kernel_shape", c.KernelSize, c.KernelSize),
                                AttributeProto.OfInts("strides", c.Stride, c.Stride),
                                AttributeProto.OfInts("pads", c.Padding, c.Padding, c.Padding, c.Padding));
                case ReLU: return Node("Relu", path, [x]);
                case Tiny.Nn.Tanh: return Node("Tanh", path, [x]);
                case Sigmoid: return Node("Sigmoid", path, [x]);
                case Flatten: return Node("Flatten", path, [x], AttributeProto.OfInt("axis", 1));
                case QNetworks.Unflatten u:
                    return Node("Reshape", path, [x, Constant(path + ".shape", [-1L, .. u.Shape.Select(d => (long)d)])]);
                default:
                    // A user's own Module type: its Forward is code, not a graph of known layers.
                    throw new NotSupportedException($"ONNX export: no ONNX form for the layer {m.GetType().Name} at {path} (known: Sequential, Linear, Conv2d, ReLU, Tanh, Sigmoid, Flatten, Unflatten; " +
                                                    "a network of other Module types trains, saves and loads, but exports only when built from these)");
            }
        }

        private string Unique(string name)
        {
            string n = name;
            for (int k = 1; !_names.Add(n); k++) n = $"{name}_{k}";
            return n;
        }
    }
}

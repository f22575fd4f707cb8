// FusedStep: one optimizer step's constants for a fused device update, computed on the host in double exactly as
// the CPU optimizers compute them (src/Optim/*.cs), so a backend only rounds them to the tensor's dtype.
namespace Tiny;

/// <summary>Which optimizer update a <see cref="FusedStep"/> runs.</summary>
public enum FusedKind
{
    /// <summary>SGD: weight decay, momentum (dampening, Nesterov). State: momentum buffer (when momentum != 0).</summary>
    Sgd,
    /// <summary>Adam / AdamW / AMSGrad. State: exp_avg, exp_avg_sq, max_exp_avg_sq (AMSGrad).</summary>
    Adam,
    /// <summary>AdaBound / AMSBound / AdaBoundW. State as Adam.</summary>
    AdaBound,
    /// <summary>AlphaGrad: g &lt;- tanh(alpha*g/(||g||+eps)), then SGD. State: momentum buffer (when momentum != 0).</summary>
    AlphaGrad,
}

/// <summary>
/// The constants of one fused optimizer update of one tensor (every field is what the CPU code rounds to the
/// tensor's dtype; unused fields stay 0). Built by Tiny.Optim; run by <see cref="IBackend.OptimizerStep"/>.
/// </summary>
public readonly record struct FusedStep
{
    public FusedKind Kind { get; init; }
    /// <summary>Weight decay (L2 added to g, or decoupled where <see cref="Decoupled"/>).</summary>
    public double WeightDecay { get; init; }
    /// <summary>SGD/AlphaGrad momentum mu.</summary>
    public double Momentum { get; init; }
    /// <summary>1 - dampening.</summary>
    public double OneMinusDampening { get; init; }
    /// <summary>-lr (SGD, AlphaGrad).</summary>
    public double NegLr { get; init; }
    public double Beta1 { get; init; }
    public double OneMinusBeta1 { get; init; }
    public double Beta2 { get; init; }
    public double OneMinusBeta2 { get; init; }
    public double Eps { get; init; }
    /// <summary>AdamW: 1 - lr*wd.</summary>
    public double Decay { get; init; }
    /// <summary>Adam: sqrt(1 - b2^t).</summary>
    public double Bc2Sqrt { get; init; }
    /// <summary>Adam: -(lr / (1 - b1^t)); AdaBound: lr * sqrt(1 - b2^t) / (1 - b1^t).</summary>
    public double StepSize { get; init; }
    /// <summary>AdaBound's bounds on the per-element step.</summary>
    public double Lower { get; init; }
    public double Upper { get; init; }
    /// <summary>AlphaGrad's tanh steepness.</summary>
    public double Alpha { get; init; }
    public bool Maximize { get; init; }
    public bool Nesterov { get; init; }
    /// <summary>AMSGrad / AMSBound: keep the running max of exp_avg_sq (third state buffer).</summary>
    public bool Amsgrad { get; init; }
    /// <summary>AdamW / AdaBoundW: decoupled weight decay.</summary>
    public bool Decoupled { get; init; }
    /// <summary>The momentum buffer was just created: it takes g instead of mu*buf + (1-dampening)*g.</summary>
    public bool Fresh { get; init; }
}

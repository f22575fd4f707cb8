// The classic 2-D optimizer test functions, through autograd (a parameter of shape [2]) and as plain doubles.
namespace Tiny.Optim;

/// <summary>rosenbrock, beale, himmelblau, quadratic: f(x, y) as in the golden data's expressions.</summary>
public static class TestFunctions
{
    /// <summary>The function names both Evaluate overloads accept.</summary>
    public static readonly string[] Names = ["rosenbrock", "beale", "himmelblau", "quadratic"];

    /// <summary>f(p[0], p[1]) recorded by autograd; p has shape [2].</summary>
    public static Tensor Evaluate(string name, Tensor p)
    {
        var x = p.Select(0, 0);
        var y = p.Select(0, 1);
        return name switch
        {
            "rosenbrock" => (1 - x).Pow(2) + 100 * (y - x.Pow(2)).Pow(2),
            "beale" => (1.5 - x + x * y).Pow(2) + (2.25 - x + x * y.Pow(2)).Pow(2) + (2.625 - x + x * y.Pow(3)).Pow(2),
            "himmelblau" => (x.Pow(2) + y - 11).Pow(2) + (x + y.Pow(2) - 7).Pow(2),
            "quadratic" => 0.5 * x.Pow(2) + 5 * y.Pow(2),
            _ => throw Unknown(name),
        };
    }

    /// <summary>f(x, y) in double, for contour plots.</summary>
    public static double Evaluate(string name, double x, double y) => name switch
    {
        "rosenbrock" => Sq(1 - x) + 100 * Sq(y - x * x),
        "beale" => Sq(1.5 - x + x * y) + Sq(2.25 - x + x * y * y) + Sq(2.625 - x + x * y * y * y),
        "himmelblau" => Sq(x * x + y - 11) + Sq(x + y * y - 7),
        "quadratic" => 0.5 * x * x + 5 * y * y,
        _ => throw Unknown(name),
    };

    /// <summary>A global minimum of name (himmelblau has four; this is (3, 2)).</summary>
    public static (double X, double Y) Minimum(string name) => name switch
    {
        "rosenbrock" => (1, 1), "beale" => (3, 0.5), "himmelblau" => (3, 2), "quadratic" => (0, 0), _ => throw Unknown(name),
    };

    private static double Sq(double v) => v * v;

    private static ArgumentException Unknown(string name) =>
        new($"unknown function '{name}' (known: {string.Join(", ", Names)})", nameof(name));
}

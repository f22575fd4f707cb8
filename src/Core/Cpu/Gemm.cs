// Gemm: placeholder row-major GEMM (replaced by the packed, register-blocked kernel).
namespace Tiny.Cpu;

public static class Gemm
{
    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = accumulate ? c[i * ldc + j] : 0f;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = s;
            }
    }

    public static void Dgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? c[i * ldc + j] : 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = s;
            }
    }
}

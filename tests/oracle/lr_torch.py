"""Oracle for alab's logistic regression (tests/test_cpm_lr.c): reads
problems from argv[1], each
    n d C penalty          (penalty: l2 or l1)
    y x_1 ... x_d          (n lines, y in {0, 1})
and prints for each the minimiser of
    l2: 0.5 ||w||^2 + C sum_i log(1 + exp(-s_i w.x_i))
    l1: ||w||_1     + C sum_i log(1 + exp(-s_i w.x_i))
(s_i = 2 y_i - 1, no intercept) as one line of d numbers. L2 by PyTorch's
LBFGS (float64, strong Wolfe line search); L1, not differentiable at 0, by
proximal gradient (FISTA, soft-thresholding) on the same loss in PyTorch."""
import sys
import torch

torch.set_default_dtype(torch.float64)


def loss_fn(w, X, s, C):
    return C * torch.nn.functional.softplus(-s * (X @ w)).sum()


def fit_l2(X, s, C):
    w = torch.zeros(X.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=10000, tolerance_grad=1e-12, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = 0.5 * (w * w).sum() + loss_fn(w, X, s, C)
        f.backward()
        return f

    for _ in range(5):
        opt.step(closure)
    return w.detach()


def fit_l1(X, s, C):
    # Lipschitz constant of the smooth part's gradient: C ||X||_2^2 / 4
    L = C * torch.linalg.matrix_norm(X, ord=2) ** 2 / 4
    step = 1 / L
    w = torch.zeros(X.shape[1])
    z, t = w.clone(), 1.0
    for _ in range(200000):
        g = -C * X.T @ (s * torch.sigmoid(-s * (X @ z)))  # the gradient of loss_fn
        u = z - step * g
        w_new = torch.sign(u) * torch.clamp(u.abs() - step, min=0)
        t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
        z = w_new + (t - 1) / t_new * (w_new - w)
        if (w_new - w).abs().max() < 1e-13:
            w = w_new
            break
        w, t = w_new, t_new
    return w


def main():
    tok = open(sys.argv[1]).read().split()
    p = 0
    while p < len(tok):
        n, d, C, pen = int(tok[p]), int(tok[p + 1]), float(tok[p + 2]), tok[p + 3]
        p += 4
        vals = torch.tensor([float(v) for v in tok[p:p + n * (d + 1)]]).reshape(n, d + 1)
        p += n * (d + 1)
        s = 2 * vals[:, 0] - 1
        X = vals[:, 1:]
        w = fit_l2(X, s, C) if pen == "l2" else fit_l1(X, s, C)
        print(" ".join("%.12g" % v for v in w.tolist()))


main()

//go:build cuda || cudaemu

package cuda

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// kernelConstant matches a top-level `constexpr int NAME = 123;` in a kernel
// file; constants inside functions or namespaces are indented and ignored.
var kernelConstant = regexp.MustCompile(`(?m)^constexpr int (\w+) = (-?\d+);`)

// launchGeometryName matches constants that the Go launchers must mirror.
var launchGeometryName = regexp.MustCompile(`Block|BLOCK|Tile|TILE|Threads|THREADS|Warps|WARPS`)

// goConstantName maps a kernel constant to its Go twin: kConvTile → convTile,
// SOFTMAX_BLOCK → softmaxBlock.
func goConstantName(name string) string {
	if len(name) > 1 && name[0] == 'k' && unicode.IsUpper(rune(name[1])) {
		return strings.ToLower(name[1:2]) + name[2:]
	}
	parts := strings.Split(strings.ToLower(name), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// goIntConstants returns the package's constants declared as integer
// literals, by name, from every Go file of this directory.
func goIntConstants(t *testing.T) map[string]int64 {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	consts := map[string]int64{}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		require.NoError(t, err, "parse %s", path)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						continue
					}
					v, err := strconv.ParseInt(lit.Value, 0, 64)
					require.NoError(t, err, "%s: constant %s", path, name.Name)
					consts[name.Name] = v
				}
			}
		}
	}
	return consts
}

// Launch geometry is written twice, in the kernel files and in the Go
// launchers; a mismatch launches kernels with the wrong block size.
func TestKernelConstantsMatch(t *testing.T) {
	goConsts := goIntConstants(t)
	sources, err := filepath.Glob("../kernels/*.cu")
	require.NoError(t, err)
	require.NotEmpty(t, sources, "no kernel sources in ../kernels")
	checked := 0
	for _, path := range sources {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, m := range kernelConstant.FindAllStringSubmatch(string(src), -1) {
			name, goName := m[1], goConstantName(m[1])
			want, err := strconv.ParseInt(m[2], 10, 64)
			require.NoError(t, err)
			got, ok := goConsts[goName]
			if !ok {
				require.Falsef(t, launchGeometryName.MatchString(name),
					"%s: launch constant %s = %d has no Go twin: declare const %s = %d "+
						"(an integer literal) in package cuda", path, name, want, goName, want)
				continue
			}
			require.Equalf(t, want, got, "%s: %s = %d but Go constant %s = %d",
				path, name, want, goName, got)
			checked++
		}
	}
	require.Positive(t, checked, "no kernel constant was compared")
}

func TestGoConstantName(t *testing.T) {
	for in, want := range map[string]string{
		"kMemoryBlock":  "memoryBlock",
		"SOFTMAX_BLOCK": "softmaxBlock",
		"kConvTile":     "convTile",
		"GEMM_TILE_M":   "gemmTileM",
		"k":             "k",
	} {
		require.Equalf(t, want, goConstantName(in), "goConstantName(%q)", in)
	}
}

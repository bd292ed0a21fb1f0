package fashionmnist

import (
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The checksums are those of the files in Debian's dataset-fashion-mnist
// 0.0~git20200523.55506a9-1, as listed in README.md.
func TestEmbeddedChecksums(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		size int
		md5  string
	}{
		{"t10k-images-idx3-ubyte.gz", TestImagesGz, 4422079, "f78720b4224f21cce2f2ccf2d7a94c9a"},
		{"t10k-labels-idx1-ubyte.gz", TestLabelsGz, 5125, "0d30e22e447f3c33dab9ed536400ac01"},
	} {
		sum := md5.Sum(tc.data)
		assert.Equal(t, tc.size, len(tc.data), "%s: size", tc.name)
		assert.Equal(t, tc.md5, hex.EncodeToString(sum[:]), "%s: MD5", tc.name)
	}
}

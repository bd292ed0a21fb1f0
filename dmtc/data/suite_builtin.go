package data

import (
	"fmt"
	"strings"
)

// Names of the built-in suites.
const (
	SuiteFashion3     = "fashion3"
	SuiteMNIST        = "mnist"
	SuiteCIFAR100DMTC = "cifar100-dmtc"
)

// BuiltinSuites returns the names of the built-in suites.
func BuiltinSuites() []string {
	return []string{SuiteFashion3, SuiteMNIST, SuiteCIFAR100DMTC}
}

// BuiltinSuite returns the spec of a built-in suite for the data folder
// dataDir. Its source paths are ".", so build it with dataDir as the base
// folder, as LoadSuite does.
//
//   - fashion3: three tasks of three Fashion-MNIST classes. Class j of every
//     task is the same kind of item: 0 an upper-body garment (T-shirt/top,
//     Pullover, Coat), 1 another garment or a bag (Trouser, Dress, Bag), 2
//     footwear (Sandal, Sneaker, Ankle boot). With no dataDir it reads the
//     embedded test set, 3,000 images a task. With one it reads the IDX
//     training and test files there, such as the full 70,000-image set in
//     /usr/share/datasets/fashion-mnist (21,000 images a task).
//   - mnist: digits {0, 1, 2}, {3, 4, 5} and {6, 7, 8} (9 is not used) from
//     the MNIST IDX training and test files in dataDir, which is required.
//   - cifar100-dmtc: three tasks of five CIFAR-100 fine classes, 400 training
//     images each (the first 400 in train.bin): hamster, oak_tree, leopard,
//     dolphin, bee; mouse, palm_tree, lion, whale, beetle; squirrel,
//     pine_tree, tiger, shark, cockroach. dataDir, which is required, holds
//     train.bin or a cifar-100-binary folder.
func BuiltinSuite(name, dataDir string) (*SuiteSpec, error) {
	switch name {
	case SuiteFashion3:
		return fashion3Spec(dataDir), nil
	case SuiteMNIST:
		if dataDir == "" {
			return nil, fmt.Errorf("data: suite %s needs a data dir holding the MNIST IDX "+
				"files (train-images-idx3-ubyte[.gz] and the three others); set one", name)
		}
		return mnistSpec(), nil
	case SuiteCIFAR100DMTC:
		if dataDir == "" {
			return nil, fmt.Errorf("data: suite %s needs a data dir holding the CIFAR-100 "+
				"binary version (train.bin, or a cifar-100-binary folder); set one", name)
		}
		return cifar100DMTCSpec(), nil
	}
	return nil, fmt.Errorf("data: unknown built-in suite %q, want one of %s", name,
		strings.Join(BuiltinSuites(), ", "))
}

func fashion3Spec(dataDir string) *SuiteSpec {
	source := SourceSpec{Name: "fashion-mnist", Kind: KindEmbeddedFashionMNIST}
	if dataDir != "" {
		source = SourceSpec{Name: "fashion-mnist", Kind: KindIDX, Path: ".",
			Classes: FashionMNISTClasses()}
	}
	task := func(name string, classes ...string) TaskSpec {
		return TaskSpec{Name: name, Source: source.Name, Classes: classes}
	}
	return &SuiteSpec{
		Name:    SuiteFashion3,
		Sources: []SourceSpec{source},
		Tasks: []TaskSpec{
			task("tshirt-trouser-sandal", "T-shirt/top", "Trouser", "Sandal"),
			task("pullover-dress-sneaker", "Pullover", "Dress", "Sneaker"),
			task("coat-bag-ankleboot", "Coat", "Bag", "Ankle boot"),
		},
	}
}

func mnistSpec() *SuiteSpec {
	task := func(name string, classes ...string) TaskSpec {
		return TaskSpec{Name: name, Source: "mnist", Classes: classes}
	}
	return &SuiteSpec{
		Name:    SuiteMNIST,
		Sources: []SourceSpec{{Name: "mnist", Kind: KindIDX, Path: "."}},
		Tasks: []TaskSpec{
			task("digits-0-1-2", "0", "1", "2"),
			task("digits-3-4-5", "3", "4", "5"),
			task("digits-6-7-8", "6", "7", "8"),
		},
	}
}

func cifar100DMTCSpec() *SuiteSpec {
	task := func(name string, classes ...string) TaskSpec {
		return TaskSpec{Name: name, Source: "cifar100-train", Classes: classes, PerClassCap: 400}
	}
	return &SuiteSpec{
		Name: SuiteCIFAR100DMTC,
		Sources: []SourceSpec{
			{Name: "cifar100-train", Kind: KindCIFAR100, Path: ".", Split: SplitTrain},
		},
		Tasks: []TaskSpec{
			task("hamster-oak-leopard-dolphin-bee",
				"hamster", "oak_tree", "leopard", "dolphin", "bee"),
			task("mouse-palm-lion-whale-beetle",
				"mouse", "palm_tree", "lion", "whale", "beetle"),
			task("squirrel-pine-tiger-shark-cockroach",
				"squirrel", "pine_tree", "tiger", "shark", "cockroach"),
		},
	}
}

package manifest

import (
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: whatever a user points
// -f at, the result is objects or an error naming the source, never a panic.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"",
		"   \n",
		"# comment only\n",
		"\x00\x01binary",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {}\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n",
		"apiVersion: v1\nkind: List\nitems: [1, null, {kind: Pod}]\n",
		"apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec:\n  runAsUser: {rule: Sometimes}\n",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}`,
		`{"apiVersion":"v1","kind":`,
		"a: [b\n",
		"---\n---\n- 1\n",
		"kind: &a [*a]\n",
		"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\nkind: List\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  x: \"q\n- r\"\n",
		`{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"b"},"spec":{"n":[1,2.5,-3e2]}}],"kind":"List"}`,
		`{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},{"kind":"Pod","metadata":{"name":"a","name":"b"}}],"kind":"List"}`,
		`{"kind":"List","apiVersion":"v1","items":[{"apiVersion":"v1","kind":"List","items":[]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A List is decoded item by item; the answer must be the whole
		// decode's, objects and errors alike.
		checkSameAsWhole(t, data)
		objs, err := Decode(data, "fuzz")
		if err != nil {
			if len(objs) != 0 {
				t.Fatalf("Decode returned %d objects with error %v", len(objs), err)
			}
			return
		}
		if len(objs) == 0 {
			t.Fatal("Decode returned no objects and no error")
		}
		for _, o := range objs {
			if o.Object == nil || o.Object.GetName() == "" || o.Object.GetKind() == "" {
				t.Fatalf("Decode returned an incomplete object at %s", o.Location())
			}
		}
	})
}

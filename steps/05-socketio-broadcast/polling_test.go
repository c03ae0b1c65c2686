package main

import "testing"

func TestConvertLengths(t *testing.T) {
	tests := []struct {
		name, units, bytes string
	}{
		{"ASCII stays as it is", `23:42["chat message","hi"]`, `23:42["chat message","hi"]`},
		{"Turkish letters are two bytes each", `25:42["chat message","ağaç"]`, `27:42["chat message","ağaç"]`},
		{"an emoji is two UTF-16 units and four bytes", `23:42["chat message","🙂"]`, `25:42["chat message","🙂"]`},
		{"several packets", `1:225:42["chat message","ağaç"]`, `1:227:42["chat message","ağaç"]`},
		{"digits and a colon inside a packet", `9:42["1:2"]2:40`, `9:42["1:2"]2:40`},
		{"an empty payload", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := convertLengths([]byte(tt.units), unitsToBytes)
			if !ok || string(got) != tt.bytes {
				t.Errorf("unitsToBytes(%q) = %q, %v; want %q", tt.units, got, ok, tt.bytes)
			}
			got, ok = convertLengths([]byte(tt.bytes), bytesToUnits)
			if !ok || string(got) != tt.units {
				t.Errorf("bytesToUnits(%q) = %q, %v; want %q", tt.bytes, got, ok, tt.units)
			}
		})
	}
	for _, bad := range []string{"x:1", ":1", "5:abc", "3", "-1:a", "99:4x"} {
		if got, ok := convertLengths([]byte(bad), unitsToBytes); ok {
			t.Errorf("unitsToBytes(%q) = %q, want not ok", bad, got)
		}
	}
}

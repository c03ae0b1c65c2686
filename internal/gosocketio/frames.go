package gosocketio

import (
	"bytes"
	"sync"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
)

// frameReader, okunan bir paketin verisidir. go-socket.io'nun çözücüsü
// ReadByte ve UnreadByte ister; bytes.Reader ikisini de verir, böylece
// çözücü her paket için kendi ara belleğini ayırmaz.
type frameReader struct{ *bytes.Reader }

func newFrameReader(data []byte) frameReader { return frameReader{bytes.NewReader(data)} }

func (frameReader) Close() error { return nil }

// committer, kapatılan bir yazıcının paketini gönderen bağlantıdır.
type committer interface {
	commit(w *frameWriter) error
}

// frameWriter, go-socket.io'nun yazdığı bir paketi toplar; ilk baytı
// paketin türüdür. WriteByte'ı olduğu için kodlayıcı her paket için 4
// KB'lık bir bufio.Writer ayırmaz. Kapatılınca paket bağlantıya gider ve
// yazıcı havuza döner.
type frameWriter struct {
	bytes.Buffer
	conn committer
	ft   frame.Type
	pt   packet.Type
}

var frameWriters = sync.Pool{New: func() any { return new(frameWriter) }}

// maxPooledWriter, havuza geri konan ara belleğin en büyük boyudur; büyük
// bir mesajın belleği havuzda tutulmaz.
const maxPooledWriter = 64 << 10

func newFrameWriter(c committer, ft frame.Type, pt packet.Type) *frameWriter {
	w := frameWriters.Get().(*frameWriter)
	w.conn, w.ft, w.pt = c, ft, pt
	if ft == frame.Binary {
		w.WriteByte(pt.BinaryByte())
	} else {
		w.WriteByte(pt.StringByte())
	}
	return w
}

// Close, paketi bağlantıya verir.
func (w *frameWriter) Close() error {
	err := w.conn.commit(w)
	w.conn = nil
	if w.Cap() <= maxPooledWriter {
		w.Reset()
		frameWriters.Put(w)
	}
	return err
}

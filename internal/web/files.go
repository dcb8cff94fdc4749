package web

import (
	"io/fs"
	"strings"
)

// filesOnly is the app as http.FileServer sees it: files only. A directory
// reads as missing, since FileServer lists any directory without an
// index.html (and the app's file list is nobody's business), and so does a
// source map, should a build have left one (the build makes none: they
// would publish the app's sources, paths included).
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".map") {
		return nil, fs.ErrNotExist
	}
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

module.exports = { native: null, loadError: new Error("native addon not built") };

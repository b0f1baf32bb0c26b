/** Test double of k6/execution: the iteration counter and the VU id scripts read. */
export default { scenario: { iterationInTest: 0 }, vu: { idInTest: 1 } };

// The page's 3D viewer (demo/ui/viewer.py): one three.js renderer per view that keeps its compiled
// shaders from one model to the next and draws only when something changed.
//
// Why our own and not Gradio's Model3D: that viewer releases a model's shader programs with the
// model, so every new garment is compiled and linked again, and it draws continuously. Where the
// browser draws in software (SwiftShader: headless Chromium, machines without a GPU) that compile
// alone took 0.3-0.8 s after the GLB had arrived, on the cores the app also runs on.

import * as THREE from './three/three.module.js';
import { DRACOLoader } from './three/DRACOLoader.js';
import { GLTFLoader } from './three/GLTFLoader.js';
import { OrbitControls } from './three/OrbitControls.js';

const FOV = 35; // degrees, vertical
const MARGIN = 1.25; // the model's box takes 1/MARGIN of the view's height (or width)

const draco = new DRACOLoader().setDecoderPath(new URL('three/draco/', import.meta.url).href);
const loader = new GLTFLoader().setDRACOLoader(draco);

function textures(material) {
  return Object.values(material).filter((value) => value && value.isTexture);
}

function dispose(model) {
  model.traverse((node) => {
    if (!node.isMesh) return;
    node.geometry.dispose();
    for (const material of [node.material].flat()) {
      textures(material).forEach((texture) => texture.dispose());
      material.dispose();
    }
  });
}

// Camera and orbit target framing the whole model from the front (+z), a little above its middle.
function frame(model, camera, controls) {
  const box = new THREE.Box3().setFromObject(model);
  const size = box.getSize(new THREE.Vector3());
  const centre = box.getCenter(new THREE.Vector3());
  const tan = Math.tan(THREE.MathUtils.degToRad(FOV / 2));
  const fit = Math.max(size.y / 2 / tan, size.x / 2 / (tan * camera.aspect));
  const distance = MARGIN * fit + size.z / 2;
  camera.near = distance / 100;
  camera.far = distance * 10;
  camera.position.set(centre.x, centre.y + 0.05 * size.y, centre.z + distance);
  camera.updateProjectionMatrix();
  controls.target.copy(centre);
  controls.update();
}

// The materials our GLBs load as (core/mesh/export.py: a garment's textured and two-sided, an
// avatar's skin a plain colour, one-sided), compiled once when a view mounts and kept: three.js
// shares a program between materials that need the same, so the first model shown does not wait
// for its shaders (where WebGL is software, 0.4-0.9 s of compiling and linking). The materials are
// never disposed, so the programs stay.
function warmShaders(renderer, scene, camera) {
  const pixel = new THREE.DataTexture(new Uint8Array([255, 255, 255, 255]), 1, 1);
  pixel.colorSpace = THREE.SRGBColorSpace;
  pixel.needsUpdate = true;
  const triangle = new THREE.BufferGeometry();
  triangle.setAttribute('position', new THREE.Float32BufferAttribute([0, 0, 0, 1, 0, 0, 0, 1, 0], 3));
  triangle.setAttribute('normal', new THREE.Float32BufferAttribute([0, 0, 1, 0, 0, 1, 0, 0, 1], 3));
  triangle.setAttribute('uv', new THREE.Float32BufferAttribute([0, 0, 1, 0, 0, 1], 2));
  const kinds = [
    new THREE.MeshStandardMaterial({ map: pixel, side: THREE.DoubleSide, metalness: 0, roughness: 0.9 }),
    new THREE.MeshStandardMaterial({ metalness: 0, roughness: 0.7 }),
  ];
  const meshes = kinds.map((material) => new THREE.Mesh(triangle, material));
  scene.add(...meshes);
  renderer.compile(scene, camera);
  scene.remove(...meshes);
}

// The first textured model a page shows paid, after its fetch, ~0.3 s more than the next ones:
// the GLB's parse code run for the first time, the browser's first JPEG decode and first texture
// upload. A view takes that path at mount with a garment of one triangle (warm.glb: written by
// scripts/build_viewer_warmup.py as every garment is), while the person picks a photo.
function warmTextures(renderer) {
  loader.loadAsync(new URL('warm.glb', import.meta.url).href).then((gltf) => {
    gltf.scene.traverse((node) => {
      if (node.isMesh) [node.material].flat().forEach((m) => textures(m).forEach((t) => renderer.initTexture(t)));
    });
    dispose(gltf.scene);
  }).catch((error) => console.warn('3D viewer: warm-up model not loaded', error));
}

export function mount(element, props, watch) {
  const renderer = new THREE.WebGLRenderer({ antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  const canvas = renderer.domElement;
  canvas.className = 'fr3d-canvas';
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(props.background);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x9a9aa4, 2.0));
  const camera = new THREE.PerspectiveCamera(FOV, 1, 0.01, 100);
  const key = new THREE.DirectionalLight(0xffffff, 1.4); // a light over the viewer's shoulder, turning with the camera
  key.position.set(0.6, 0.8, 0.2);
  key.target.position.set(0, 0, -1);
  camera.add(key, key.target);
  scene.add(camera);
  const controls = new OrbitControls(camera, canvas);
  warmShaders(renderer, scene, camera);
  warmTextures(renderer);
  let shown = null; // the model on view
  let asked = 0; // the newest load asked for: an older one that ends later is dropped
  let pending = 0; // an animation frame asked for

  // Gradio redraws the component's HTML when its value changes: the canvas goes back in its box.
  function box() {
    const into = element.querySelector('.fr3d-box');
    if (into && canvas.parentElement !== into) into.appendChild(canvas);
    return into;
  }

  function draw() {
    box();
    renderer.render(scene, camera);
  }

  function later() {
    if (!pending) pending = requestAnimationFrame(() => { pending = 0; draw(); });
  }

  function resize() {
    const into = box();
    if (!into || !into.clientWidth || !into.clientHeight) return;
    renderer.setSize(into.clientWidth, into.clientHeight, false);
    camera.aspect = into.clientWidth / into.clientHeight;
    camera.updateProjectionMatrix();
    later();
  }

  // The new model is drawn before the old one is freed, so that the shader programs they share
  // (three.js keys them by what a material needs, not by the material) are never compiled again.
  function swap(model) {
    const old = shown;
    shown = model;
    if (old) old.visible = false;
    if (model) {
      scene.add(model);
      frame(model, camera, controls);
    }
    draw();
    if (old) {
      scene.remove(old);
      dispose(old);
    }
  }

  // A job's model is asked for as the job starts, its URL with `wait=` (the server answers once the
  // model is written), and given again without it when the job is done: the same model, which is
  // not loaded twice, unless the first request failed (a proxy that cut it short).
  function model(url) {
    const parsed = new URL(url, document.baseURI);
    parsed.searchParams.delete('wait');
    return parsed.href;
  }
  let wanted = null; // the model being loaded or shown

  async function show(url) {
    if (url && model(url) === wanted) return;
    const ticket = ++asked;
    wanted = url ? model(url) : null;
    delete element.dataset.error;
    if (!url) {
      swap(null);
      element.dataset.shown = '';
      return;
    }
    let gltf;
    try {
      gltf = await loader.loadAsync(url);
    } catch (error) {
      if (ticket === asked) {
        element.dataset.error = String(error && error.message || error);
        wanted = null; // asked again, it is loaded again
      }
      console.error('3D viewer: could not load the model', error);
      return;
    }
    if (ticket !== asked) {
      dispose(gltf.scene);
      return;
    }
    swap(gltf.scene);
    element.dataset.shown = url;
  }

  controls.addEventListener('change', later);
  new ResizeObserver(resize).observe(element);
  new MutationObserver(() => { if (box()) later(); }).observe(element, { childList: true }); // any other redraw
  resize();
  watch('value', () => { box(); show(props.value); });
  show(props.value);
}
